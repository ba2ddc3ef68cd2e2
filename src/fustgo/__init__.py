"""FustGo: declarative data sync (input → processors → output) over Apache Arrow batches."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fustgo")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
