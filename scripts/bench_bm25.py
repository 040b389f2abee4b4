"""BM25 at scale: build the lexical index over N synthetic Arabic passages (words
drawn from seeds/ plus random rare tokens) and time queries. Prints numbers.

    python scripts/bench_bm25.py [N=100000] [QUERIES=200]
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from assistant import arabic
from assistant.lexical import LexicalIndex
from assistant.settings import PROJECT_ROOT


def main(n: int = 100_000, queries: int = 200) -> None:
    rng = random.Random(0)
    vocab = sorted({w for p in (PROJECT_ROOT / "seeds").glob("*.txt") for w in p.read_text(encoding="utf-8").split()})
    rare = [f"كلمة{i}" for i in range(20_000)]
    texts = [" ".join(rng.choices(vocab, k=70) + rng.choices(rare, k=5)) for _ in range(n)]
    t0 = time.perf_counter()
    index = LexicalIndex.build(texts)
    build_s = time.perf_counter() - t0
    asked = [" ".join(rng.choices(vocab, k=8)) for _ in range(queries)]
    times = []
    for q in asked:
        t = time.perf_counter()
        index.search(q, 30)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p50, p95 = statistics.median(times), times[int(0.95 * len(times)) - 1]
    print(f"passages={n} vocab={len(vocab) + len(rare)} build_s={build_s:.1f}")
    print(f"query_ms p50={p50:.2f} p95={p95:.2f} max={times[-1]:.2f}  (target: far below 100 ms; p95/100ms = {p95 / 100:.3f})")
    print(f"terms per query (normalised+stems): {len(arabic.terms(asked[0]))}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
