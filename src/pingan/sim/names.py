"""Place names for the synthetic city, in Chinese with their pinyin.

Names are two syllables drawn without repeats from a fixed list, so every
district, subdistrict and community in one city has its own name.
"""

from __future__ import annotations

import numpy as np

SYLLABLES: tuple[tuple[str, str], ...] = (
    ("安", "an"), ("平", "ping"), ("江", "jiang"), ("湖", "hu"), ("山", "shan"),
    ("城", "cheng"), ("东", "dong"), ("西", "xi"), ("南", "nan"), ("北", "bei"),
    ("新", "xin"), ("桥", "qiao"), ("河", "he"), ("云", "yun"), ("明", "ming"),
    ("华", "hua"), ("兴", "xing"), ("和", "he"), ("宁", "ning"), ("康", "kang"),
    ("福", "fu"), ("泰", "tai"), ("清", "qing"), ("溪", "xi"), ("湾", "wan"),
    ("林", "lin"), ("松", "song"), ("柳", "liu"), ("梅", "mei"), ("桂", "gui"),
    ("荷", "he"), ("莲", "lian"), ("石", "shi"), ("塘", "tang"), ("港", "gang"),
    ("浦", "pu"), ("滨", "bin"), ("阳", "yang"), ("光", "guang"), ("丰", "feng"),
    ("乐", "le"), ("嘉", "jia"), ("景", "jing"), ("瑞", "rui"), ("祥", "xiang"),
    ("德", "de"), ("文", "wen"), ("武", "wu"), ("春", "chun"), ("秋", "qiu"),
    ("金", "jin"), ("玉", "yu"), ("龙", "long"), ("凤", "feng"), ("鹤", "he"),
    ("翠", "cui"), ("青", "qing"), ("白", "bai"), ("古", "gu"), ("园", "yuan"),
    ("泉", "quan"), ("岭", "ling"), ("峰", "feng"), ("州", "zhou"),
)  # fmt: skip


class NamePool:
    """Hands out distinct two-syllable names; numbered once every pair is used."""

    def __init__(self, rng: np.random.Generator) -> None:
        n = len(SYLLABLES)
        first, second = np.divmod(np.arange(n * n), n)
        keep = first != second
        order = rng.permutation(int(keep.sum()))
        self._pairs = np.column_stack([first[keep], second[keep]])[order]
        self._next = 0

    def draw(self) -> tuple[str, str]:
        """(Chinese, English) of the next unused name."""
        i = self._next
        self._next += 1
        a, b = self._pairs[i % len(self._pairs)]
        zh = SYLLABLES[a][0] + SYLLABLES[b][0]
        en = (SYLLABLES[a][1] + SYLLABLES[b][1]).capitalize()
        lap = i // len(self._pairs)
        if lap:
            zh, en = f"{zh}{lap + 1}", f"{en} {lap + 1}"
        return zh, en
