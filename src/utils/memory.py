"""Memory guards: how much RAM is free, and whether a dense allocation may be made.

Dense item x item matrices grow with the square of the catalogue (EASE's Gram/inverse,
KNNBaseline's pearson_baseline similarities): at 45k titles one float64 matrix is 15 GiB, so
a stage must check before allocating, not crash half-way. ``available_bytes`` reads the
kernel's free+reclaimable figure; ``dense_bytes`` estimates a fit's peak from the item count;
``check_dense`` compares the two against a budget and returns a human-readable reason when
the allocation would not fit (the caller then skips or shrinks the model and records why).
"""

from __future__ import annotations

import os

from src.utils.errors import SettingError

__all__ = ["available_bytes", "memory_budget_bytes", "resolve_budget", "dense_bytes", "check_dense", "max_dense_items",
           "fmt_bytes"]


def available_bytes() -> int:
    """Bytes of RAM the kernel could give this process now (free + reclaimable cache).

    Linux: ``MemAvailable`` from /proc/meminfo (counts page cache that can be dropped, which
    ``os.sysconf('SC_AVPHYS_PAGES')`` does not); elsewhere psutil when installed, else the
    sysconf free pages. Out: an int, never raises.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # optional (dev extra): the portable answer on macOS/Windows

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0


def memory_budget_bytes(fraction: float, override_mb: float | None = None) -> int:
    """The bytes one dense allocation may use: ``override_mb`` MiB when given, else
    ``fraction`` of :func:`available_bytes` (the rest is left to the process and its peers)."""
    if override_mb is not None:
        if override_mb < 0:
            raise ValueError(f"memory budget must be >= 0 MiB, got {override_mb!r}")
        return int(override_mb * 2**20)
    if not 0 < fraction <= 1:
        raise ValueError(f"memory fraction must be in (0, 1], got {fraction!r}")
    return int(available_bytes() * fraction)


def resolve_budget(override_mb: float | None, env_name: str, fraction: float) -> int:
    """The dense-allocation budget in bytes: ``override_mb`` if given, else the MiB in
    environment variable ``env_name`` if set, else ``fraction`` of available RAM.

    A non-numeric environment value raises :class:`SettingError` naming the variable (one
    line, no traceback at the task layer), so a typo never silently means "no guard".
    """
    if override_mb is None and os.environ.get(env_name, "").strip():
        raw = os.environ[env_name].strip()
        try:
            override_mb = float(raw)
        except ValueError:
            raise SettingError(f"{env_name}={raw!r} is not a number of MiB") from None
    return memory_budget_bytes(fraction, override_mb)


def dense_bytes(n_items: int, n_matrices: float, itemsize: int) -> int:
    """Peak bytes of ``n_matrices`` dense n_items x n_items arrays of ``itemsize`` bytes."""
    return int(n_matrices * itemsize * int(n_items) ** 2)


def max_dense_items(budget: int, n_matrices: float, itemsize: int) -> int:
    """The largest item count whose dense peak fits ``budget`` bytes (0 when none does)."""
    return int((max(budget, 0) / (n_matrices * itemsize)) ** 0.5)


def fmt_bytes(n: int) -> str:
    """``n`` bytes as a short string (GiB above 1 GiB, else MiB) for log lines and reports."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def check_dense(what: str, n_items: int, n_matrices: float, itemsize: int, budget: int) -> str | None:
    """None when ``what``'s dense peak for ``n_items`` fits ``budget`` bytes, else the reason.

    In: a model name, the item count, how many n² arrays its fit holds at once and their
    element size, the budget in bytes. Out: e.g. "knn_baseline needs ~76.0 GiB for 45173²
    similarities (5 x 8-byte matrices) > budget 11.2 GiB".
    """
    need = dense_bytes(n_items, n_matrices, itemsize)
    if need <= budget:
        return None
    return (f"{what} needs ~{fmt_bytes(need)} for {n_items}² dense item matrices "
            f"({n_matrices:g} x {itemsize}-byte) > memory budget {fmt_bytes(budget)}")
