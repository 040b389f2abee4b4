"""Batch evaluation (placeholder: being written)."""

from __future__ import annotations

import click


@click.command()
def eval_command():
    """Run a file of questions and write results (not implemented yet)."""
    raise click.ClickException("eval is not implemented yet")
