"""Same-matter scoring of one new petition against N earlier ones, with a peer in the same run.

* ours: ``pingan.governance.petitions_dedupe`` — character-bigram counts and
  their cosine, in plain Python, as ``find_same_matter`` scores candidates;
* peer: scikit-learn, ``CountVectorizer(analyzer="char", ngram_range=(2, 2))``
  over the same normalised texts and ``cosine_similarity`` of the new one
  against all (sparse matrices).

Both must give the same scores (checked to 1e-9). The texts are synthetic
petitions built from a vocabulary of real complaint phrases, deterministic by
seed. Prints times per scoring run (median of 5) and the ratio.

    .venv/bin/python benchmarks/petitions_dedupe.py             # N = 5,000 (the candidate cap)
    .venv/bin/python benchmarks/petitions_dedupe.py --n 20000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from pingan.governance.petitions_dedupe import bigrams, cosine, normalise

PHRASES = [
    "小区电梯停运", "物业不予维修", "拖欠工资", "拆迁安置房交付延期", "征地补偿款",
    "餐馆油烟直排", "夜间施工噪音", "低保申请未答复", "医保结算困难", "窗口办事推诿",
    "楼顶渗水", "维修基金", "经济补偿", "老人无法下楼", "多次反映无果", "要求尽快解决",
]  # fmt: skip


def texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "，".join(rng.sample(PHRASES, rng.randint(3, 6))) + f"，{rng.randint(1, 99)}号楼。"
        for _ in range(n)
    ]


def ours(query: str, corpus: list[str]) -> list[float]:
    mine = bigrams(query)
    return [cosine(mine, bigrams(t)) for t in corpus]


def peer(query: str, corpus: list[str]) -> list[float]:
    counts = CountVectorizer(analyzer="char", ngram_range=(2, 2), lowercase=False)
    matrix = counts.fit_transform([normalise(t) for t in [query, *corpus]])
    return [float(x) for x in cosine_similarity(matrix[0], matrix[1:])[0]]


def timed(fn: object, *args: object, repeat: int = 5) -> tuple[float, list[float]]:
    runs, result = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(*args)  # type: ignore[operator]
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    corpus = texts(args.n, args.seed)
    query = corpus[len(corpus) // 2]
    t_ours, s_ours = timed(ours, query, corpus)
    t_peer, s_peer = timed(peer, query, corpus)
    worst = max(abs(a - b) for a, b in zip(s_ours, s_peer, strict=True))
    assert worst < 1e-9, f"scores differ by {worst}"
    print(f"N = {args.n}: ours {t_ours * 1000:.1f} ms, scikit-learn {t_peer * 1000:.1f} ms, "
          f"ratio ours/peer {t_ours / t_peer:.2f}; max score difference {worst:.1e}")  # fmt: skip


if __name__ == "__main__":
    main()
