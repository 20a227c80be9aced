"""The one recommendation chain served by ``Recommender`` and measured by ``invoke evaluate``.

LensKit's rule: the same objects build every list, whether one request or a batch of users.

    histories  (viewer ratings -> aligned sparse rows, :mod:`.histories`)
      -> candidates  (filters: genres, media type, platforms; seen; catalogue rows, :mod:`.candidates`)
      -> scorers     (EASE collaborative, TF-IDF content profile, popularity, :mod:`.scorers`)
      -> blend       (by how much a title was seen and how long the history is, :mod:`.blend`)
      -> rank        (ties by id, backfill from the chart, :mod:`.rank`)
      -> explain     (the reason of each returned title, :mod:`.explain`)

:class:`.chain.RecPipeline` holds one fitted instance of every stage over one catalogue.
Everything works on catalogue positions (a title without a catalogue row can never be
listed), vectorised over users: a single request is a batch of one row.
"""

from src.models.pipeline.chain import RecPipeline, Step

__all__ = ["RecPipeline", "Step"]
