"""``models``: the known neural weights, where they are and where they come from."""

from __future__ import annotations

import argparse

from latent_upscale.cli.common import add_neural_arguments, neural_options

__all__ = ["add_models"]


def _cmd_models(args: argparse.Namespace) -> int:
    from latent_upscale.neural import describe, list_models
    from latent_upscale.neural.weights import find_local_weights, search_dirs

    options = neural_options(args)
    print("Searched, in order:")
    for folder, label in search_dirs(options):
        print(f"  {folder}  ({label}{'' if folder.is_dir() else ', absent'})")
    wanted = set(args.family or ())
    print("\nKnown weights" + (f" for {', '.join(sorted(wanted))}:" if wanted else ":"))
    infos = list_models(options)
    known = {info.entry.filename for info in infos}
    for info in infos:
        if not wanted or wanted & set(info.families):
            print(f"  {info.summary()}")
    others = [
        (path, label)
        for path, label in find_local_weights(options)
        if path.name not in known and _may_serve(path.name, wanted)
    ]
    if others:
        print("\nOther weight files found (used when named with --weights):")
        for path, label in others:
            print(f"  {path}  ({label})")
    print("\nWhat --method neural would use:")
    from latent_upscale.families import FAMILY_LIST

    # One line per VAE (SD 2.x shares SD 1.x's files), in the family registry's order.
    for family in args.family or [f.id for f in FAMILY_LIST if f.vae_group == f.id]:
        print(f"  {family:5} {describe(family, options)}")
    print("\nWhat --method tae would use:")
    for family in args.family or [f.id for f in FAMILY_LIST if f.vae_group == f.id and f.autoencoder]:
        print(f"  {family:5} {describe(family, options, role='autoencoder')}")
    return 0


def _may_serve(filename: str, families: set[str]) -> bool:
    """A weights file the catalog does not name is listed unless its name says another family."""
    from latent_upscale.neural.catalog import hints_from_filename

    hinted = hints_from_filename(filename).family
    return not families or hinted is None or hinted in families


def add_models(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from latent_upscale.families import FAMILY_IDS

    parser = sub.add_parser(
        "models",
        parents=[common],
        help="list the known neural weights, where they are and where they come from",
    )
    parser.add_argument("--family", action="append", choices=FAMILY_IDS, help="only these families")
    add_neural_arguments(parser)
    parser.set_defaults(func=_cmd_models, method="neural")
