"""Motion's sorting engine: themes, recurring points and map for a congress (no Flask here)."""

from .pipeline import (
    Cluster,
    ItemResult,
    LiveAssignment,
    Locks,
    SortingModel,
    SortResult,
    sort_congress,
)
from .themes import HORS_THEME, Theme, ThemesError, load_themes

__all__ = ["HORS_THEME", "Cluster", "ItemResult", "LiveAssignment", "Locks", "SortResult",
           "SortingModel", "Theme", "ThemesError", "load_themes", "sort_congress"]
