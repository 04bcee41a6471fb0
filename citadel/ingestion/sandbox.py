"""Run a parser in a child process with CPU, memory and wall-clock limits.

A hostile file (a PDF that loops, a document that balloons in memory) then fails only its own
document: the child is killed and the worker carries on. The child comes from a forkserver (a
clean, single-threaded process with the parsers preloaded), so forking is cheap and never copies
the worker's threads, database connections or model weights. The child leads its own process
group, so the programs it starts (Tesseract) are killed with it.
"""

import multiprocessing
import os
import resource
import signal
import threading
from dataclasses import dataclass

from citadel.ingestion.detection import IMAGES, PDF
from citadel.ingestion.errors import CorruptFile, IngestionError, ParseLimitExceeded
from citadel.ingestion.parsers import Limits, ParsedDocument, parse

_context_lock = threading.Lock()
_context = None


@dataclass(frozen=True)
class SandboxLimits:
    timeout_seconds: int
    memory_bytes: int
    max_pdf_pages: int
    max_rows: int = Limits.max_rows
    # Scanned pages and images get this much more time, for OCR.
    ocr_seconds: int = Limits.ocr_seconds
    ocr_threads: int = Limits.ocr_threads
    max_image_pixels: int = Limits.max_image_pixels
    max_attachments: int = Limits.max_attachments

    def for_kind(self, kind: str) -> int:
        """The wall-clock and CPU budget of one parse of this kind."""
        return self.timeout_seconds + (self.ocr_seconds if kind == PDF or kind in IMAGES else 0)


def _get_context():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(
                [
                    "citadel.ingestion.parsers",
                    "pypdf",
                    "pypdfium2",
                    "PIL.Image",
                    "pytesseract",
                    "docx",
                    "openpyxl",
                    "pptx",
                    "bs4",
                    "lxml",
                    "markdown_it",
                    "email.policy",
                    "extract_msg",
                ]
            )
            _context = ctx
        return _context


def _child(conn, function, args: tuple, seconds: int, memory_bytes: int, kind: str) -> None:
    os.setpgid(0, 0)
    cpu = max(1, int(seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        conn.send(("ok", function(*args)))
    except IngestionError as exc:
        conn.send(("error", exc.error_class, exc.message))
    except MemoryError:
        conn.send(("error", ParseLimitExceeded.error_class, _memory_message(memory_bytes)))
    except Exception:  # any parser bug on a malformed file (RecursionError too) fails this document only
        conn.send(("error", CorruptFile.error_class, _corrupt_message(kind)))
    finally:
        conn.close()


def _memory_message(memory_bytes: int) -> str:
    return (
        f"Reading this file needed more than {memory_bytes // (1024 * 1024)} MB of memory, so it was stopped. "
        "Split the document into smaller files and upload them."
    )


def _corrupt_message(kind: str) -> str:
    return f"This {kind.upper() if kind in {'pdf', 'html'} else kind} file is damaged or malformed and cannot be read. Save a new copy and upload that."


def run_sandboxed(function, *args, kind: str, seconds: int, memory_bytes: int):
    """`function(*args)` in a fresh child process with these limits. What it raises as an
    IngestionError is raised here; a crash, a hang or a blown limit becomes one with a sentence
    about this file of `kind`."""
    ctx = _get_context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, function, args, seconds, memory_bytes, kind), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise ParseLimitExceeded(
                f"Reading this file took longer than {seconds} seconds, so it was stopped. "
                "Split the document into smaller files, or save it again in a simpler format."
            )
        try:
            message = receiver.recv()
        except EOFError:
            process.join(5)
            raise _died(process.exitcode, kind, seconds, memory_bytes) from None
    finally:
        receiver.close()
        _kill_group(process.pid)
        if process.is_alive():  # killed before it led its own group
            process.kill()
        process.join(5)
        process.close()
    if message[0] == "ok":
        return message[1]
    _, error_class, text = message
    raise IngestionError(text, error_class=error_class)


def parse_sandboxed(path: str, kind: str, limits: SandboxLimits) -> ParsedDocument:
    parser_limits = Limits(
        max_pdf_pages=limits.max_pdf_pages,
        max_rows=limits.max_rows,
        ocr_seconds=limits.ocr_seconds,
        ocr_threads=limits.ocr_threads,
        max_image_pixels=limits.max_image_pixels,
        max_attachments=limits.max_attachments,
    )
    return run_sandboxed(
        parse, path, kind, parser_limits, kind=kind, seconds=limits.for_kind(kind), memory_bytes=limits.memory_bytes
    )


def _kill_group(pid: int | None) -> None:
    """The child and whatever it started: a Tesseract still reading must not outlive its parse."""
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _died(exitcode: int | None, kind: str, seconds: int, memory_bytes: int) -> IngestionError:
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return ParseLimitExceeded(
            f"Reading this file used more than {seconds} seconds of processing time, so it was stopped. "
            "Split the document into smaller files and upload them."
        )
    if exitcode == -signal.SIGSEGV:
        return ParseLimitExceeded(_memory_message(memory_bytes))
    return CorruptFile(_corrupt_message(kind))
