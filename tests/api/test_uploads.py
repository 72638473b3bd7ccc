"""The upload size check shared by the views that take files."""

from __future__ import annotations

import io

import pytest
from fastapi import UploadFile

from pingan.api.uploads import read_capped
from pingan.kit.errors import PayloadTooLarge


def _upload(size: int) -> UploadFile:
    return UploadFile(io.BytesIO(b"x" * size), filename="f.bin")


def test_a_file_at_the_limit_is_read_whole() -> None:
    assert read_capped(_upload(2**20), 2**20) == b"x" * 2**20


def test_one_byte_over_is_413_with_the_limit_in_mib() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        read_capped(_upload(2 * 2**20 + 1), 2 * 2**20)
    assert caught.value.status == 413
    assert caught.value.detail == "a file may be at most 2 MiB"
    assert caught.value.field == "file"


def test_the_caller_words_the_refusal() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        read_capped(_upload(11), 10, detail="too big; use the CLI", field=None)
    assert (caught.value.detail, caught.value.field) == ("too big; use the CLI", None)
