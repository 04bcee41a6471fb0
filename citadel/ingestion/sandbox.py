"""Run a parser in a child process with CPU, memory and wall-clock limits.

A hostile file (a PDF that loops, a document that balloons in memory) then fails only its own
document: the child is killed and the worker carries on. The child comes from a forkserver (a
clean, single-threaded process with the parsers preloaded), so forking is cheap and never copies
the worker's threads, database connections or model weights.
"""

import multiprocessing
import resource
import signal
import threading
from dataclasses import dataclass

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


def _get_context():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(
                ["citadel.ingestion.parsers", "pypdf", "docx", "openpyxl", "pptx", "bs4", "lxml", "markdown_it"]
            )
            _context = ctx
        return _context


def _child(conn, path: str, kind: str, limits: SandboxLimits) -> None:
    cpu = max(1, int(limits.timeout_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    try:
        result = parse(path, kind, Limits(max_pdf_pages=limits.max_pdf_pages, max_rows=limits.max_rows))
        conn.send(("ok", result))
    except IngestionError as exc:
        conn.send(("error", exc.error_class, exc.message))
    except MemoryError:
        conn.send(("error", ParseLimitExceeded.error_class, _memory_message(limits)))
    except RecursionError:
        conn.send(("error", CorruptFile.error_class, _corrupt_message(kind)))
    except Exception:  # any parser bug on a malformed file fails this document only
        conn.send(("error", CorruptFile.error_class, _corrupt_message(kind)))
    finally:
        conn.close()


def _memory_message(limits: SandboxLimits) -> str:
    return (
        f"Reading this file needed more than {limits.memory_bytes // (1024 * 1024)} MB of memory, so it was stopped. "
        "Split the document into smaller files and upload them."
    )


def _corrupt_message(kind: str) -> str:
    return f"This {kind.upper() if kind in {'pdf', 'html'} else kind} file is damaged or malformed and cannot be read. Save a new copy and upload that."


def parse_sandboxed(path: str, kind: str, limits: SandboxLimits) -> ParsedDocument:
    ctx = _get_context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, path, kind, limits), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_seconds):
            raise ParseLimitExceeded(
                f"Reading this file took longer than {limits.timeout_seconds} seconds, so it was stopped. "
                "Split the document into smaller files, or save it again in a simpler format."
            )
        try:
            message = receiver.recv()
        except EOFError:
            process.join(5)
            raise _died(process.exitcode, kind, limits) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
        process.close()
    if message[0] == "ok":
        return message[1]
    _, error_class, text = message
    raise IngestionError(text, error_class=error_class)


def _died(exitcode: int | None, kind: str, limits: SandboxLimits) -> IngestionError:
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return ParseLimitExceeded(
            f"Reading this file used more than {limits.timeout_seconds} seconds of processing time, so it was stopped. "
            "Split the document into smaller files and upload them."
        )
    if exitcode == -signal.SIGSEGV:
        return ParseLimitExceeded(_memory_message(limits))
    return CorruptFile(_corrupt_message(kind))
