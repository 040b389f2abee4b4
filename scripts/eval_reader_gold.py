"""The reader alone, given each question's gold paragraph: F1 / EM of its answer, per decoding.

    python scripts/eval_reader_gold.py ../shared/train/arcd-test.json --consensus 1 20
    python scripts/eval_reader_gold.py ../shared/train/arcd-test.json --consensus 1 --sentence-probe

``--consensus 1`` is the top-scoring span; N > 1 the span of highest expected F1 among the N best
(``reader.consensus_span``; the shipped default is ``ASSISTANT_READER_CONSENSUS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.embeddings import resolve_model  # noqa: E402
from assistant.reader import Reader  # noqa: E402
from assistant.reader_train import evaluate_gold, evaluate_sentence_probe  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="SQuAD-format file (ARCD-test: never trained on)")
    parser.add_argument("--consensus", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--reader-dir", default=None, help="reader folder (default: ASSISTANT_READER_DIR, the shipped reader)")
    parser.add_argument("--dtype", default=None, help="float32, bfloat16 or auto (default: ASSISTANT_READER_DTYPE)")
    parser.add_argument("--sentence-probe", action="store_true",
                        help="also read each gold paragraph less its answer's sentence (near-misses; reader_train.evaluate_sentence_probe)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    info = resolve_model(settings)
    reader = Reader(info.path, args.reader_dir or settings.reader_dir,  # loaded once; each decoding only changes ``consensus``
                    dtype=args.dtype or settings.reader_dtype)
    for n in args.consensus:
        reader.consensus = max(1, n)
        print(json.dumps({"consensus": n, "members": len(reader.models), "dtype": reader.dtype,
                          **evaluate_gold(reader, args.file, args.limit)}), flush=True)
    if args.sentence_probe:
        reader.consensus = 1
        print(json.dumps({"sentence_probe": evaluate_sentence_probe(reader, args.file, args.limit)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
