"""``schedules`` (list the noise schedules) and ``sigmas`` (print one as JSON).

Old spellings stay as aliases that say so in their help: ``schedulers`` for ``schedules``,
``--scheduler`` for ``--schedule`` and ``--model`` for ``--family``.
"""

from __future__ import annotations

import argparse

from latent_upscale.cli.common import UsageError, positive_float

__all__ = ["add_schedules"]


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE such as rho=5, got {text!r}")
    return name.strip(), value.strip()


def _denoise(text: str) -> float:
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"denoising strength lies in (0, 1], got {text!r}")
    return value


def _cmd_schedules(args: argparse.Namespace) -> int:
    from latent_upscale.schedules import registered_schedules

    for schedule in registered_schedules():
        if args.long:
            params = ", ".join(
                f"{p.name}={p.default:g} [{p.minimum:g}..{p.maximum:g}]" for p in schedule.params
            )
            print(f"{schedule.id:18} {schedule.label:18} {params or '-':32} {schedule.advice}")
        else:
            print(schedule.id)
    return 0


def _cmd_sigmas(args: argparse.Namespace) -> int:
    import json

    from latent_upscale.schedules import build_sigmas, img2img_sigmas, sd_sigma_table

    params = dict(args.param or [])
    table = sd_sigma_table(args.family)
    if args.denoise is None:
        if args.no_fix_steps:
            raise UsageError("--no-fix-steps only makes sense with --denoise")
        sigmas = build_sigmas(args.schedule, args.steps, table, family=args.family, **params)
    else:
        sigmas = img2img_sigmas(
            args.schedule,
            args.steps,
            args.denoise,
            table,
            fix_steps=not args.no_fix_steps,
            family=args.family,
            **params,
        )
    print(json.dumps([round(float(s), 6) for s in sigmas]))
    return 0


def add_schedules(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from latent_upscale.schedules import TABLE_FAMILIES, schedule_ids

    parser = sub.add_parser(
        "schedules",
        aliases=["schedulers"],
        parents=[common],
        help="list the noise schedule ids, one a line (schedulers: an alias, the old name)",
    )
    parser.add_argument("--long", action="store_true", help="also show labels, parameters and advice")
    parser.set_defaults(func=_cmd_schedules)

    parser = sub.add_parser(
        "sigmas",
        parents=[common],
        help="print a noise schedule as a JSON list",
        description="Print the sigmas of a schedule for an SD1/SDXL model (built from its betas). With "
        "--denoise, print only the part img2img really samples, with or without the WebUI's "
        "img2img_fix_steps.",
    )
    parser.add_argument(
        "--schedule",
        "--scheduler",
        dest="schedule",
        required=True,
        choices=schedule_ids(),
        metavar="ID",
        help="one of: %(choices)s (--scheduler: an alias, the old name)",
    )
    parser.add_argument("--steps", required=True, type=int, help="sampling steps (the slider value)")
    parser.add_argument(
        "--family",
        "--model",
        dest="family",
        default="sd1",
        choices=TABLE_FAMILIES,
        help="model family whose sigma table is used; default: %(default)s (--model: an alias, the old name)",
    )
    parser.add_argument("--denoise", type=_denoise, help="img2img denoising strength: print the sigmas used")
    parser.add_argument(
        "--no-fix-steps",
        action="store_true",
        help="with --denoise: as the WebUI does by default (fewer steps than the slider)",
    )
    parser.add_argument(
        "--param",
        type=_param,
        action="append",
        metavar="NAME=VALUE",
        help="a schedule parameter, e.g. rho=5 (repeatable)",
    )
    parser.set_defaults(func=_cmd_sigmas)
