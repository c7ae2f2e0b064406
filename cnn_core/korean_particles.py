"""Korean particles that fit the word before them: "LeNet-5를 학습", not "LeNet-5을(를) 학습".

A Korean particle has two forms, chosen by whether the word before it ends in a consonant (a
final consonant, 받침): "모델을" but "LeNet-5를". A translation cannot know the word a
``{placeholder}`` will hold, so the catalog writes both, "{name}을(를)", as Korean software
does. :func:`fit_particles` picks the form once the word is known: after a Hangul syllable or a
number (read aloud: 1 일, 10 십, 100 백, 5 오), past closing quotes and brackets. After anything
else (a Latin word such as "Shapes", whose reading it cannot know for sure) both forms stay.

Example:
    >>> fit_particles("LeNet-5을(를) 학습합니다")
    'LeNet-5를 학습합니다'
    >>> fit_particles("'MNIST 표본'은(는) 비어 있습니다")
    "'MNIST 표본'은 비어 있습니다"
    >>> fit_particles("“파일”(으)로 저장")
    '“파일”로 저장'
    >>> fit_particles("'Shapes'을(를) 골랐습니다")
    "'Shapes'을(를) 골랐습니다"
"""

from __future__ import annotations

import re

#: Both forms as the catalog writes them -> (after a final consonant, after a vowel).
PARTICLES: dict[str, tuple[str, str]] = {
    "을(를)": ("을", "를"), "이(가)": ("이", "가"), "은(는)": ("은", "는"),
    "과(와)": ("과", "와"), "와(과)": ("과", "와"), "(으)로": ("으로", "로"),
}
_PARTICLE = re.compile("|".join(re.escape(both) for both in PARTICLES))
#: Closing marks looked past to the word they close.
_CLOSERS = "'\"’”)]}*»」』"
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8   # ㄹ's index among the final consonants: "(으)로" after it is "로"
#: The final consonant of each digit read aloud (0 = none): 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_FINALS = (21, 8, 0, 16, 0, 0, 1, 8, 8, 0)
#: Of a number ending in zeros, by how many: 십 (ㅂ), 백 (ㄱ), 천 (ㄴ), 만 (ㄴ).
_TENS_FINALS = (17, 1, 4, 4)


def final_consonant(text: str) -> int | None:
    """The final consonant index (0: none, 8: ㄹ) of how ``text`` ends when read aloud, or None
    when that is not known (an empty text, or one ending in a Latin letter or a sign)."""
    text = text.rstrip().rstrip(_CLOSERS).rstrip()
    if not text:
        return None
    last = text[-1]
    if _HANGUL_FIRST <= ord(last) <= _HANGUL_LAST:
        return (ord(last) - _HANGUL_FIRST) % 28
    if last == "%":
        return 0   # 퍼센트
    if last.isascii() and last.isdigit():
        number = re.search(r"[\d,]*$", text).group().replace(",", "")
        whole = number.rstrip("0")
        zeros = len(number) - len(whole)
        if zeros == 0:
            return _DIGIT_FINALS[int(last)]
        if not whole:
            return _DIGIT_FINALS[0]   # 0, 영
        return _TENS_FINALS[min(zeros, len(_TENS_FINALS)) - 1]
    return None


def fit_particles(text: str) -> str:
    """``text`` with each two-form particle ("을(를)", "(으)로"...) in the form its word takes,
    where the word's ending is known (:func:`final_consonant`)."""
    if "(" not in text:
        return text

    def fitted(match: re.Match) -> str:
        final = final_consonant(text[:match.start()])
        if final is None:
            return match.group()
        after_consonant, after_vowel = PARTICLES[match.group()]
        if match.group() == "(으)로":
            return after_vowel if final in (0, _RIEUL) else after_consonant
        return after_consonant if final else after_vowel

    return _PARTICLE.sub(fitted, text)


__all__ = ["PARTICLES", "final_consonant", "fit_particles"]
