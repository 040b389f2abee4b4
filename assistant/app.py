"""Gradio app (placeholder: being written)."""


def serve(settings):
    raise NotImplementedError("the browser app is being written")
