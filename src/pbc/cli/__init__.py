"""The `pbc` command line: one verb per job, each with its own `--help`, and `--json` where scripts read it."""

from __future__ import annotations

import sys
from typing import Any

import click

from pbc import __version__
from pbc.cli import (
    admin,
    audit,
    benchmark,
    budget,
    challenge,
    contract,
    cost,
    demo,
    ingest,
    les,
    orgs,
    quality,
    reference,
    report,
    synth,
    web,
)
from pbc.errors import PbcError


class PbcGroup(click.Group):
    """Prints pbc's own errors as plain messages (no traceback) with a meaningful exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen verb, turning a `PbcError` into a message on stderr."""
        try:
            return super().invoke(ctx)
        except PbcError as error:
            click.echo(f"pbc: error: {error}", err=True)
            sys.exit(error.exit_code)


@click.group(cls=PbcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pbc")
def main() -> None:
    """pbc: practice-based commissioning for the NHS.

    Reference data and the organisation tree, hospital activity, Payment by Results costing, indicative budgets
    and monthly monitoring for commissioners, their clusters and GP practices. Settings come from PBC_*
    environment variables or pbc.toml (see `pbc settings`).
    """


main.add_command(admin.settings)
main.add_command(admin.keys)
main.add_command(reference.reference)
main.add_command(orgs.orgs)
main.add_command(synth.synth)
main.add_command(ingest.ingest)
main.add_command(quality.quality)
main.add_command(challenge.challenge)
main.add_command(cost.cost)
main.add_command(audit.audit)
main.add_command(contract.contract)
main.add_command(benchmark.benchmark)
main.add_command(budget.budget)
main.add_command(budget.monitor)
main.add_command(les.les)
main.add_command(report.report)
main.add_command(web.serve)
main.add_command(web.demo_users)
main.add_command(demo.demo)
