"""The one way a screen reads an uploaded CSV file: present, and no larger than the
import forms promise (2 Mo), refused with the French sentence every import page shows."""

from __future__ import annotations

from flask import request

from ..csv_io import CsvError

#: The largest file an import form accepts (two thousand lines weigh far less).
MAX_UPLOAD = 2 * 1024 * 1024


def read_upload(field: str = "file") -> bytes:
    """The bytes of the form's file, read no further than the limit (CsvError if none
    was chosen or it is too large)."""
    file = request.files.get(field)
    if file is None or not file.filename:
        raise CsvError("aucun fichier choisi.")
    data = file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise CsvError("le fichier dépasse 2 Mo.")
    return data
