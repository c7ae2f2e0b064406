"""AppTest of the home page: what CNN Lab does, the steps, and "Train a first model"."""

from __future__ import annotations

from page_helpers import current_page, new_app, open_page, stop_run


def test_home_explains_and_links_every_step():
    at = new_app().run()
    assert not at.exception
    assert at.title[0].value == "CNN Lab"
    intro = next(m.value for m in at.main.markdown if "recognise pictures" in m.value)
    assert intro.count(".") == 2  # two sentences
    links = {link.proto.page for link in at.get("page_link")}
    labels = " ".join(link.value for link in at.get("page_link"))
    for page in ("data", "model_builder", "training", "evaluation"):
        assert any(page in target for target in links), (page, links)
    assert "Look at the data" in labels and "Train it" in labels
    button = at.button(key="home_train_first")
    assert button.help and "Train a first model" == button.label


def test_train_first_model_queues_a_run_on_the_default_data_and_opens_training(workspace):
    from cnn_core.datasets import DEFAULT_DATASET_ID
    from cnn_core.runs import RunStore

    at = open_page(None, "shapes")  # the button must switch to the offline default
    at.button(key="home_train_first").click().run()
    runs = RunStore(workspace).list_runs()
    assert len(runs) == 1
    run = runs[0]
    try:
        assert run.config["dataset"]["id"] == DEFAULT_DATASET_ID
        assert run.config["model"]["epochs"] == 3
        assert run.config["preset"]
        assert at.session_state["active_run_id"] == run.id
        assert at.session_state["dataset_id"] == DEFAULT_DATASET_ID
        assert current_page(at) == "training.py"
        assert not [t for t in at.title if t.value == "CNN Lab"]
    finally:
        stop_run(workspace, run.id)


def test_the_one_click_caption_gives_the_data_sets_own_split():
    from cnn_core.datasets import DEFAULT_DATASET_ID, load_dataset
    from cnn_core.preprocessing import PreprocessSpec, train_validation_split

    dataset = load_dataset(DEFAULT_DATASET_ID)
    x_train, _y, x_val, _v = train_validation_split(dataset.x_train, dataset.y_train,
                                                    PreprocessSpec().validation_fraction, 0)
    at = new_app().run()
    caption = next(c.value for c in at.main.caption if "passes over" in c.value)
    assert f"passes over {len(x_train):,} pictures" in caption
    assert f"{len(x_val):,} more check it" in caption and f"{len(dataset.x_test):,} test it" in caption
    assert "5,000" not in caption and "LeNet-5" in caption and "MNIST sample" in caption
