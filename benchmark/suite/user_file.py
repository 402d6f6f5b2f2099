"""Reading a text file the user names (a suite, an asset manifest): what it is instead, in one line.

A directory (``transferbench run suites/``), a binary file (a checkpoint given where the suite
goes), text in another encoding, a socket or a file the system will not let us read each
end in the one-line error every other bad input gets, never in a traceback.
"""

from pathlib import Path


def read_text(path, kind: str, error: type[Exception], suffix: str = "") -> str:
    """The UTF-8 text of ``path``, else ``error("PATH: ...")`` saying why not.

    ``kind`` names the file in messages ("suite file": "no such suite file"); ``suffix``
    (".toml") lists the candidates when ``path`` is a directory.
    """
    path = Path(path)
    a_kind = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    try:
        data = path.read_bytes()  # a FIFO reads too: `run <(generate-suite)` is a suite
    except FileNotFoundError:
        gone = f" (a link to {path.readlink()}, which does not exist)" if path.is_symlink() else ""
        raise error(f"{path}: no such {kind}{gone}") from None
    except IsADirectoryError:
        inside = sorted(p.name for p in path.glob(f"*{suffix}") if p.is_file()) if suffix else []
        hint = f"; it holds {', '.join(inside[:6])}{', ...' if len(inside) > 6 else ''}: give one of them" if inside else ""
        raise error(f"{path}: is a directory, not {a_kind}{hint}") from None
    except OSError as failure:  # permission denied, a socket (ENXIO), an I/O error
        reason = "it is a socket" if path.is_socket() else failure.strerror or str(failure)
        raise error(f"{path}: cannot read the {kind}: {reason}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # e.g. PowerShell 5's `>` writes UTF-16
        raise error(f"{path}: the {kind} is UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as failure:
        line = data[:failure.start].count(b"\n") + 1
        raise error(f"{path}:{line}: not {a_kind}: not UTF-8 text (byte 0x{data[failure.start]:02x}); "
                    f"a binary file, or text in another encoding?") from None
