"""Train the reader and measure it on held-out data: ``python scripts/train_reader.py [options]``.

The same as ``assistant train-reader``; see ``assistant/reader_train.py`` for the data and method.
"""

from assistant.cli import main

if __name__ == "__main__":
    main(["train-reader", *__import__("sys").argv[1:]])
