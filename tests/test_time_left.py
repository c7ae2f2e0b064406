"""The engine's time-left estimate: measured batches after warm-up, never the first batch."""

from __future__ import annotations

import pytest

from cnn_core.time_left import TimeLeftEstimator, estimate_run_seconds


def feed(clock: TimeLeftEstimator, epoch: int, batch_ends: list[float]) -> None:
    for batch, at in enumerate(batch_ends):
        clock.batch_done(epoch, batch, now=at)


def test_estimating_until_batches_after_warm_up_were_measured():
    clock = TimeLeftEstimator(epochs=3, batches=10, warmup_batches=2, min_batches=3)
    feed(clock, 0, [30.0, 31.0, 32.0, 33.0])   # a 30 s first batch, then 1 s each
    assert clock.seconds_left(now=33.0) is None          # only 1 batch measured after warm-up
    clock.batch_done(0, 4, now=34.0)
    clock.batch_done(0, 5, now=35.0)
    # the slow first batch does not count: 4 batches left + 2 epochs of 10 batches, at 1 s
    assert clock.seconds_left(now=35.0) == pytest.approx(4 + 20)


def test_validation_time_is_measured_not_taken_from_the_first_epoch():
    clock = TimeLeftEstimator(epochs=4, batches=4, validation_batches=3, warmup_batches=1,
                              min_batches=2)
    feed(clock, 0, [10.0, 11.0, 12.0, 13.0])
    for batch, at in enumerate([20.0, 20.5, 21.0]):    # a 7 s first validation batch, then 0.5 s
        clock.test_batch_done(batch, now=at)
    clock.epoch_done(0, now=21.25)                       # 0.25 s of writes after validation
    assert clock.epoch_overhead == pytest.approx(3 * 0.5 + 0.25)
    assert clock.seconds_left(now=21.25) == pytest.approx(3 * (4 + 1.75))
    feed(clock, 1, [22.0, 23.0, 24.0, 25.0])
    clock.epoch_done(1, now=27.0)                        # later epochs: measured as a whole
    assert clock.epoch_overhead == pytest.approx(2.0)
    clock.batch_done(2, 0, now=28.5)                     # first batch of an epoch: not measured
    assert clock.seconds_per_batch == pytest.approx(1.0)
    assert clock.seconds_left(now=28.5) == pytest.approx(3 * 1 + 2 + 6)


def test_a_last_epoch_cut_short_is_projected_with_its_own_batches():
    clock = TimeLeftEstimator(epochs=3, batches=4, warmup_batches=1, min_batches=2,
                              last_batches=2)
    assert [clock.batches_in(e) for e in range(3)] == [4, 4, 2]
    feed(clock, 0, [5.0, 6.0, 7.0])                      # 1 s a batch
    assert clock.seconds_left(now=7.0) == pytest.approx(1 + 4 + 2)   # not 1 + 4 + 4
    clock.batch_done(0, 3, now=8.0)
    clock.epoch_done(0, now=8.0)
    feed(clock, 1, [9.0, 10.0, 11.0, 12.0])
    clock.epoch_done(1, now=12.0)
    clock.batch_done(2, 0, now=13.0)
    assert clock.seconds_left(now=13.0) == pytest.approx(1.0)      # the cut epoch's last batch


def test_dearer_later_epochs_are_projected_at_their_cost():
    # a run learning from the hardest pictures: 2 cheap warm-up epochs, then batches twice as dear
    clock = TimeLeftEstimator(epochs=4, batches=10, warmup_batches=1, min_batches=2,
                              epoch_costs=[1.0, 1.0, 2.0, 2.0])
    feed(clock, 0, [5.0, 6.0, 7.0, 8.0])                 # 1 s a warm-up batch
    assert clock.seconds_left(now=8.0) == pytest.approx(6 + 10 + 2 * 20)
    clock.epoch_done(0, now=11.0)
    feed(clock, 1, [float(t) for t in range(12, 22)])
    clock.epoch_done(1, now=21.0)
    feed(clock, 2, [23.0, 25.0, 27.0])                   # 2 s a batch now: the same speed
    assert clock.seconds_per_batch == pytest.approx(1.0)
    assert clock.seconds_left(now=27.0) == pytest.approx(7 * 2 + 20)


def test_a_pause_is_not_part_of_a_batch():
    clock = TimeLeftEstimator(epochs=1, batches=10, warmup_batches=1, min_batches=2)
    feed(clock, 0, [5.0, 6.0, 7.0])
    clock.paused(100.0)
    clock.batch_done(0, 3, now=108.0)
    assert clock.seconds_per_batch == pytest.approx(1.0)


def test_a_run_not_started_yet_includes_its_start_up():
    assert estimate_run_seconds(epochs=3, batches=10, seconds_per_batch=0.5, epoch_overhead=1.0,
                                startup_seconds=4.0) == pytest.approx(4 + 3 * 6)


def test_a_waiting_run_counts_dearer_epochs_at_their_cost_and_stops_at_its_time_limit():
    plain = estimate_run_seconds(epochs=4, batches=10, seconds_per_batch=0.5, epoch_overhead=1.0)
    assert plain == pytest.approx(4 * 6)
    dearer = estimate_run_seconds(epochs=4, batches=10, seconds_per_batch=0.5, epoch_overhead=1.0,
                                  epoch_costs=[1.0, 1.0, 2.0, 2.0])
    assert dearer == pytest.approx(2 * 6 + 2 * 11)
    limited = estimate_run_seconds(epochs=4, batches=10, seconds_per_batch=0.5, epoch_overhead=1.0,
                                   startup_seconds=4.0, time_limit_seconds=15.0)
    assert limited == pytest.approx(4 + 15)                 # the limit keeps what fits
    assert estimate_run_seconds(epochs=4, batches=10, seconds_per_batch=0.5,
                                time_limit_seconds=600.0) == pytest.approx(20)   # all fit


def test_before_a_run_the_range_is_wide_until_this_machine_was_measured():
    from cnn_core.time_left import MeasuredRun, calibrate_speed, range_text, time_range_before_start

    # The sweep: the pure estimate said < 1 s for 4 runs that took 36.6 s.
    wide = time_range_before_start([0.2] * 4)
    assert wide[0] < 36.6 < wide[1]
    assert range_text(wide) != "< 1 s" and range_text(wide).startswith("about ")
    # Measured here: runs took 7x their pure estimate plus 4 s of start-up.
    calibration = calibrate_speed([MeasuredRun(1.0, 7.0, 4.0), MeasuredRun(2.0, 14.0, 4.0),
                                   MeasuredRun(0.0, 5.0, None)])   # no estimate: not used
    assert calibration.factor == 7.0 and calibration.startup_seconds == 4.0 and calibration.runs == 2
    low, high = time_range_before_start([0.2] * 4, calibration)
    assert low < 4 * (4.0 + 1.4) < high and high - low < wide[1] - wide[0]
    assert calibrate_speed([]) is None and time_range_before_start([]) is None


def test_a_range_is_said_rounded_outward_in_readable_units():
    from cnn_core.time_left import range_text

    assert range_text((21.0, 38.0)) == "about 20–40 s"
    assert range_text((3.2, 8.9)) == "about 3–9 s"
    assert range_text((40.0, 150.0)) == "about 40 s – 3 min"
    assert range_text((125.0, 170.0)) == "about 2–3 min"
    assert range_text(None) == "estimating…"
