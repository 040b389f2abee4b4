"""Arabic document question answering with verified citations."""

__version__ = "0.1.0"
