"""Serving: one FastAPI process with the JSON API and the Gradio UI mounted at ``/ui``.

``service`` (the operations) and ``cli`` (``invoke recommend``) need only the core install;
``app``, ``ui`` and ``schemas`` need the ``[serve]`` extra and, without it, raise
:class:`src.utils.extras.MissingExtraError` naming the pip command before importing FastAPI
or Gradio.
"""
