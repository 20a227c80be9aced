"""How each model component becomes arrays + JSON and back: a small registry of codecs.

A bundle (:mod:`src.models.bundle`) stores components, never Python objects: each component
type registers a :class:`Codec` with a stable ``kind`` name, a ``to_arrays(obj) -> (arrays,
meta)`` that returns numeric numpy arrays plus JSON-ready metadata, and a ``from_arrays(arrays,
meta) -> obj`` that rebuilds a working object from (memory-mapped, read-only) arrays. Loading
therefore only ever runs code that is registered here; a bundle can name a kind, not a class.

Built in: ``surprise.SVD`` (rebuilt from its learned pu/qi/bu/bi, global mean and raw id maps
into a real ``surprise.SVD`` whose ``predict`` equals the trained one), the EASE and popularity
rankers of :mod:`src.models.topn`, the ALS factor ranker of :mod:`src.models.factor_ranker`
(one codec whichever engine — implicit or Spark — trained it), and the seen-ratings CSR of
:mod:`src.models.seen`. To add a model type, call :func:`register_codec` next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from surprise import SVD, Trainset

from src.models.factor_ranker import FactorRanker
from src.models.seen import SeenRatings
from src.models.topn import EaseRanker, PopularityRanker

__all__ = ["Codec", "register_codec", "codec_for", "codec_by_kind", "CODECS", "FrozenTrainset", "svd_from_arrays"]

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Codec:
    """One component type's serialisation: ``kind`` (the name stored in the manifest), the
    Python type it handles, and the two conversions."""

    kind: str
    type: type
    to_arrays: Callable[[Any], tuple[dict[str, np.ndarray], dict]]
    from_arrays: Callable[[Arrays, dict], Any]


CODECS: dict[str, Codec] = {}


def register_codec(codec: Codec) -> Codec:
    """Add ``codec`` to the registry (its kind must be new); return it."""
    if codec.kind in CODECS:
        raise ValueError(f"a codec for kind {codec.kind!r} is already registered")
    CODECS[codec.kind] = codec
    return codec


def codec_for(obj: Any) -> Codec:
    """The codec of ``obj``'s exact type; TypeError naming the type when none is registered."""
    for codec in CODECS.values():
        if type(obj) is codec.type:
            return codec
    raise TypeError(f"no bundle codec for {type(obj).__module__}.{type(obj).__name__}; "
                    f"register one in src.models.bundle_codecs (known: {sorted(CODECS)})")


def codec_by_kind(kind: object) -> Codec:
    """The codec registered as ``kind``; ValueError for an unknown kind (a bundle names data
    types, so an unknown name means a newer or tampered bundle)."""
    codec = CODECS.get(kind) if isinstance(kind, str) else None
    if codec is None:
        raise ValueError(f"unknown component kind {kind!r} (known: {sorted(CODECS)})")
    return codec


# --- surprise.SVD ----------------------------------------------------------------------------

# The SVD constructor arguments that a fitted model keeps as attributes (lr_all/reg_all are
# folded into the per-parameter ones), so a rebuilt model describes itself like the original.
_SVD_ARGS = ("n_factors", "n_epochs", "biased", "init_mean", "init_std_dev",
             "lr_bu", "lr_bi", "lr_pu", "lr_qi", "reg_bu", "reg_bi", "reg_pu", "reg_qi")


def _int_ids(raw: list, what: str) -> np.ndarray:
    """Raw Surprise ids as int64 (the catalogue and MovieLens ids are integers)."""
    # Checked per value: numpy would happily turn the string "12" into 12.
    if not all(isinstance(r, (int, np.integer)) and not isinstance(r, bool) for r in raw):
        raise ValueError(f"SVD {what} ids must be integers to be stored, got {raw[:5]!r}")
    try:
        return np.asarray(raw, dtype="int64")
    except OverflowError as exc:
        raise ValueError(f"SVD {what} ids do not fit in int64: {raw[:5]!r}") from exc


def _svd_to_arrays(algo) -> tuple[dict[str, np.ndarray], dict]:
    """A fitted SVD's learned parameters (float64: predictions must stay bit-identical) and
    raw ids in inner-id order; the trainset's ratings are not stored."""
    ts = algo.trainset
    arrays = {
        "user_ids": _int_ids([ts.to_raw_uid(u) for u in range(ts.n_users)], "user"),
        "item_ids": _int_ids([ts.to_raw_iid(i) for i in range(ts.n_items)], "item"),
        "pu": np.asarray(algo.pu, dtype="float64"), "qi": np.asarray(algo.qi, dtype="float64"),
        "bu": np.asarray(algo.bu, dtype="float64"), "bi": np.asarray(algo.bi, dtype="float64"),
    }
    meta = {"args": {k: getattr(algo, k) for k in _SVD_ARGS},
            # json writes floats with repr, which round-trips exactly.
            "global_mean": float(ts.global_mean),
            "rating_scale": [float(x) for x in ts.rating_scale],
            "n_ratings": int(ts.n_ratings)}
    return arrays, meta


class FrozenTrainset(Trainset):
    """A ``surprise.Trainset`` with the id maps and global mean only (no ratings).

    ``SVD.predict`` needs raw -> inner id maps, "knows user/item" (``uid in ur``), the rating
    scale (clipping) and the global mean, which Surprise would otherwise compute from the
    ratings; every user and item gets an empty rating list.
    """

    def __init__(self, user_ids: np.ndarray, item_ids: np.ndarray, n_ratings: int,
                 rating_scale: tuple[float, float], global_mean: float) -> None:
        users = np.asarray(user_ids, dtype="int64").tolist()
        items = np.asarray(item_ids, dtype="int64").tolist()
        super().__init__({u: [] for u in range(len(users))}, {i: [] for i in range(len(items))},
                         len(users), len(items), n_ratings, tuple(rating_scale),
                         {raw: k for k, raw in enumerate(users)}, {raw: k for k, raw in enumerate(items)})
        self._mu = float(global_mean)

    @property
    def global_mean(self) -> float:
        """The training ratings' mean, as stored in the bundle."""
        return self._mu


def svd_from_arrays(arrays: Arrays, meta: dict) -> SVD:
    """A real ``surprise.SVD`` with the stored parameters (arrays stay memory-mapped).

    In: ``user_ids``, ``item_ids``, ``pu``, ``qi``, ``bu``, ``bi`` and meta ``args`` (SVD
    constructor arguments), ``global_mean``, ``rating_scale``, ``n_ratings``. Also how another
    engine's factors become an SVD (:mod:`src.models.spark_als`)."""
    args = meta["args"]
    if not isinstance(args, dict) or set(args) - set(_SVD_ARGS):
        raise ValueError(f"SVD args must be a subset of {_SVD_ARGS}, got {args!r}")
    algo = SVD(**args)
    n_users, n_items = len(arrays["user_ids"]), len(arrays["item_ids"])
    f = int(args.get("n_factors", arrays["pu"].shape[1] if arrays["pu"].ndim == 2 else 0))
    if (arrays["pu"].shape != (n_users, f) or arrays["qi"].shape != (n_items, f)
            or arrays["bu"].shape != (n_users,) or arrays["bi"].shape != (n_items,)):
        raise ValueError("SVD arrays do not match their id maps and n_factors")
    algo.trainset = FrozenTrainset(arrays["user_ids"], arrays["item_ids"], int(meta["n_ratings"]),
                                   tuple(meta["rating_scale"]), float(meta["global_mean"]))
    algo.pu, algo.qi, algo.bu, algo.bi = arrays["pu"], arrays["qi"], arrays["bu"], arrays["bi"]
    return algo


# --- rankers (src.models.topn) ----------------------------------------------------------------

def _history_arrays(r) -> dict[str, np.ndarray]:
    """A ranker's known users and their training histories (CSR parts; ratings as float32)."""
    h = r.history.tocsr()
    return {"user_ids": np.asarray(r.user_ids, dtype="int64"), "history_indptr": h.indptr,
            "history_indices": h.indices, "history_data": h.data.astype("float32")}


def _history_from(a: Arrays, n_items: int) -> sp.csr_matrix:
    """The users × items CSR history from its arrays, checked in full: indices out of range
    fail here at load, not mid-request."""
    history = sp.csr_matrix((a["history_data"], a["history_indices"], a["history_indptr"]),
                            shape=(len(a["user_ids"]), n_items))
    history.check_format(full_check=True)
    return history


def _ease_to_arrays(r: EaseRanker) -> tuple[dict[str, np.ndarray], dict]:
    """EASE's float32 weights, per-item counts, known users and their CSR histories."""
    return ({"item_ids": np.asarray(r.item_ids, dtype="int64"),
             "weights": np.asarray(r.weights, dtype="float32"),
             "counts": np.asarray(r.counts, dtype="float64"), **_history_arrays(r)},
            {"params": dict(r.params)})


def _ease_from_arrays(a: Arrays, meta: dict) -> EaseRanker:
    """An :class:`EaseRanker` over the (memory-mapped) arrays."""
    n_items = len(a["item_ids"])
    if a["weights"].shape != (n_items, n_items) or a["counts"].shape != (n_items,):
        raise ValueError(f"EASE weights {a['weights'].shape} do not match {n_items} items")
    return EaseRanker(item_ids=a["item_ids"], weights=a["weights"], counts=a["counts"],
                      user_ids=a["user_ids"], history=_history_from(a, n_items),
                      params=dict(meta["params"]))


_FACTOR_PARAM_TYPES = {"alpha": float, "regularization": float, "fit_threshold": float}


_ANN_PREFIX = "ann_"   # array keys of the stored HNSW index (src.models.factor_ann)


def _factor_to_arrays(r: FactorRanker) -> tuple[dict[str, np.ndarray], dict]:
    """ALS user/item factors (float32), id maps, per-item counts and the CSR histories; when
    computed at train time also the known users' top-N table (int32 item columns + float32
    scores) and the HNSW index over the item factors (its arrays, scalars in the meta)."""
    arrays = {"item_ids": np.asarray(r.item_ids, dtype="int64"),
              "item_factors": np.asarray(r.item_factors, dtype="float32"),
              "user_factors": np.asarray(r.user_factors, dtype="float32"),
              "counts": np.asarray(r.counts, dtype="float64"), **_history_arrays(r)}
    meta: dict = {"params": dict(r.params)}
    if r.top_items is not None:
        arrays["top_items"] = np.asarray(r.top_items, dtype="int32")
        arrays["top_scores"] = np.asarray(r.top_scores, dtype="float32")
    if r.ann_state is not None:
        ann_arrays, ann_meta = r.ann_state
        arrays.update({_ANN_PREFIX + k: np.asarray(v) for k, v in ann_arrays.items()})
        meta["ann"] = dict(ann_meta)
    return arrays, meta


def _factor_from_arrays(a: Arrays, meta: dict) -> FactorRanker:
    """A :class:`FactorRanker` over the (memory-mapped) arrays; shapes and params checked."""
    n_items, n_users = len(a["item_ids"]), len(a["user_ids"])
    yi, xu = a["item_factors"], a["user_factors"]
    if (yi.ndim != 2 or xu.ndim != 2 or yi.shape[0] != n_items or xu.shape != (n_users, yi.shape[1])
            or a["counts"].shape != (n_items,)):
        raise ValueError(f"ALS factors {yi.shape}/{xu.shape} do not match {n_items} items, {n_users} users")
    params = meta.get("params")
    if not isinstance(params, dict) or not all(
            isinstance(params.get(k), (int, float)) and not isinstance(params.get(k), bool)
            for k in _FACTOR_PARAM_TYPES):
        raise ValueError(f"ALS params must hold numeric {sorted(_FACTOR_PARAM_TYPES)}, got {params!r}")
    top_items = top_scores = None
    if "top_items" in a:
        top_items, top_scores = a["top_items"], a["top_scores"]
        if (top_items.dtype != np.int32 or top_scores.dtype != np.float32 or top_items.ndim != 2
                or top_items.shape[0] != n_users or top_scores.shape != top_items.shape):
            raise ValueError(f"ALS top-N table {top_items.dtype}{top_items.shape}/{top_scores.dtype}"
                             f"{top_scores.shape} does not match {n_users} users")
        if top_items.size and (int(top_items.min()) < -1 or int(top_items.max()) >= n_items):
            raise ValueError(f"ALS top-N table names item columns outside 0..{n_items - 1}")
    ann = meta.get("ann")
    ann_state = None
    if isinstance(ann, dict):   # sizes are checked against the factors when the index is built
        ann_state = ({k[len(_ANN_PREFIX):]: v for k, v in a.items() if k.startswith(_ANN_PREFIX)}, dict(ann))
    return FactorRanker(item_ids=a["item_ids"], item_factors=yi, user_factors=xu, counts=a["counts"],
                        user_ids=a["user_ids"], history=_history_from(a, n_items), params=dict(params),
                        top_items=top_items, top_scores=top_scores, ann_state=ann_state)


def _popularity_to_arrays(r: PopularityRanker) -> tuple[dict[str, np.ndarray], dict]:
    """The baseline's item ids and counts."""
    return {"item_ids": np.asarray(r.item_ids, dtype="int64"),
            "counts": np.asarray(r.counts, dtype="float64")}, {}


def _seen_to_arrays(s: SeenRatings) -> tuple[dict[str, np.ndarray], dict]:
    """The four CSR arrays of the seen ratings."""
    return {"user_ids": s.user_ids, "indptr": s.indptr, "item_ids": s.item_ids, "ratings": s.ratings}, {}


register_codec(Codec("surprise.SVD", SVD, _svd_to_arrays, svd_from_arrays))
register_codec(Codec("streamrec.EaseRanker", EaseRanker, _ease_to_arrays, _ease_from_arrays))
register_codec(Codec("streamrec.FactorRanker", FactorRanker, _factor_to_arrays, _factor_from_arrays))
register_codec(Codec("streamrec.PopularityRanker", PopularityRanker, _popularity_to_arrays,
                     lambda a, _m: PopularityRanker(item_ids=a["item_ids"], counts=a["counts"])))
register_codec(Codec("streamrec.SeenRatings", SeenRatings, _seen_to_arrays,
                     lambda a, _m: SeenRatings(user_ids=a["user_ids"], indptr=a["indptr"],
                                               item_ids=a["item_ids"], ratings=a["ratings"])))
