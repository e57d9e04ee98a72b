"""Extraction in a worker process: time, memory and size limits; a dead worker is replaced.

The stand-ins below run inside the worker (they are pickled by name, so they live at module
level); they play the hostile files that would otherwise hang or kill the indexer.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from indexer.extract import Limits, extract
from indexer.extract.bounded import BoundedExtractor, extract_bounded, worker_pid

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "extract" / "samples"


def hang_on_poison(data: bytes, **kwargs):
    if data == b"poison":
        time.sleep(3600)
    return extract(data, **kwargs)


def die_on_poison(data: bytes, **kwargs):
    if data == b"poison":
        os._exit(3)
    return extract(data, **kwargs)


def eat_memory_on_poison(data: bytes, **kwargs):
    if data == b"poison":
        hog = bytearray(8 * 1024 * 1024 * 1024)
        return extract(bytes(hog[:10]), **kwargs)
    return extract(data, **kwargs)


def test_same_result_as_in_process():
    data = (SAMPLES / "guide-multipage.pdf").read_bytes()
    assert extract_bounded(data, "guide.pdf") == extract(data, filename="guide.pdf")


def test_a_hanging_file_is_cut_off_and_the_next_one_is_read():
    good = (SAMPLES / "notes-atelier.md").read_bytes()
    with BoundedExtractor(Limits(timeout=2), function=hang_on_poison) as extractor:
        assert extractor.extract(good, "a.md").status == "ok"
        first = worker_pid(extractor)
        result = extractor.extract(b"poison", "piege.pdf")
        assert result.status == "error"
        assert "extraction interrompue : plus de 2 s" in result.reason
        after = extractor.extract(good, "b.md")
        assert after.status == "ok" and "Place d'Armes" in after.text
        assert worker_pid(extractor) != first


def test_a_crashing_worker_is_reported_and_replaced():
    good = (SAMPLES / "note-windows.txt").read_bytes()
    with BoundedExtractor(Limits(timeout=60), function=die_on_poison) as extractor:
        result = extractor.extract(b"poison", "crash.pdf")
        assert result.status == "error" and "s'est arrêté" in result.reason
        assert extractor.extract(good, "note.txt").status == "ok"


def test_memory_is_capped_in_the_worker():
    with BoundedExtractor(Limits(timeout=60, max_memory=1024 ** 3), function=eat_memory_on_poison) as extractor:
        result = extractor.extract(b"poison", "bombe.pdf")
        assert result.status == "error" and "mémoire" in result.reason
        assert extractor.extract(b"texte simple", "t.txt").text == "texte simple"


def test_too_big_is_refused_without_a_worker():
    with BoundedExtractor(Limits(max_bytes=10)) as extractor:
        result = extractor.extract(b"x" * 11, "gros.txt")
        assert result.status == "error" and "trop volumineux" in result.reason
        assert worker_pid(extractor) is None


def parse_or_fail(text: str) -> list[str]:
    if text == "hostile":
        from watch.errors import ParseError

        raise ParseError("pas un flux", url="http://exemple.fr/flux", hint="vérifier l'adresse")
    if text == "hog":
        return [bytes(8 * 1024 * 1024 * 1024)]
    if text == "slow":
        time.sleep(3600)
    return text.split()


def test_run_calls_a_parser_in_the_worker_under_its_limits():
    from indexer.extract.bounded import WorkerLimitExceeded
    from watch.errors import ParseError

    with BoundedExtractor(Limits(timeout=3, max_memory=512 * 1024 * 1024)) as worker:
        assert worker.run(parse_or_fail, "deux mots") == ["deux", "mots"]
        first = worker_pid(worker)
        assert first != os.getpid()
        try:
            worker.run(parse_or_fail, "hostile")
        except ParseError as exc:   # the parser's own error comes back whole
            assert exc.url == "http://exemple.fr/flux" and "vérifier l'adresse" in str(exc)
        else:
            raise AssertionError("ParseError expected")
        assert worker_pid(worker) == first
        for hostile in ("hog", "slow"):
            try:
                worker.run(parse_or_fail, hostile)
            except WorkerLimitExceeded as exc:
                assert ("mémoire" if hostile == "hog" else "3 s") in str(exc)
            else:
                raise AssertionError("WorkerLimitExceeded expected")
        assert worker.run(parse_or_fail, "encore là") == ["encore", "là"]   # a fresh worker
        assert worker_pid(worker) != first
