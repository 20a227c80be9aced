"""Serving: one FastAPI process with the JSON API and the Gradio UI mounted at ``/ui``."""
