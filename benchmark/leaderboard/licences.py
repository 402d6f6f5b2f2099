"""The licences of what a board's cells used: listed in its provenance, and said in its caption when
one allows no commercial use.

From the records: each carries ``licences`` ({what: licence}: the suite's, its model and dataset
tables' and its assets', as the suite stated them, ``benchmark.suite.credits``). Records made before
that field name only their assets (``assets``: {name: digest}); for those, an asset's licence is
read from assets.toml, and only where the manifest's asset is still the one recorded (same digest).
"""

from benchmark.suite.credits import non_commercial


def of_records(used: list[dict]) -> dict[str, str]:
    """{what: licence} over the records, e.g. {"asset elpv": "CC-BY-NC-SA-4.0", ...}, sorted by what."""
    found, older_assets = {}, {}
    for record in used:
        stated = record.get("licences")
        if stated is not None:
            found.update(stated)
        else:
            older_assets.update(record.get("assets") or {})
    found.update({what: licence for what, licence in from_manifest(older_assets).items() if what not in found})
    return dict(sorted(found.items()))


def from_manifest(assets: dict[str, str]) -> dict[str, str]:
    """{"asset NAME": licence} of assets.toml for the recorded {name: digest} whose digest it still has."""
    if not assets:
        return {}
    from benchmark.assets import manifest
    from benchmark.errors import AssetError

    try:
        declared = manifest.load()
    except AssetError:  # no manifest here: the records alone cannot say
        return {}
    return {f"asset {name}": declared[name].licence for name, digest in assets.items()
            if name in declared and declared[name].digest == digest}


def listed(licences: dict[str, str]) -> str:
    """The provenance line: 'asset elpv: CC-BY-NC-SA-4.0; model timm tf_efficientnet_lite0: Apache-2.0'."""
    return "; ".join(f"{what}: {licence}" for what, licence in licences.items())


def caption_note(licences: dict[str, str]) -> str:
    """The caption sentence when something used allows no commercial use; '' otherwise."""
    restricted = [f"{what} ({licence})" for what, licence in licences.items() if non_commercial(licence)]
    if not restricted:
        return ""
    return (f"Uses material under a non-commercial licence: {', '.join(restricted)}; its terms allow no "
            f"commercial use.")
