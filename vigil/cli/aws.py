"""`vigil aws ...`: where Rekognition job notifications for an SNS topic ARN are delivered."""

from __future__ import annotations

import typer

from vigil.cli.output import print_result

aws_app = typer.Typer(help="AWS compatibility (docs/rekognition.md).", no_args_is_help=True)
topics_app = typer.Typer(
    help="SNS topic ARNs and the URLs their messages are posted to.", no_args_is_help=True
)
aws_app.add_typer(topics_app, name="topics")


@topics_app.command("add")
def add(arn: str, url: str) -> None:
    """Post messages for topic ARN to URL (as SNS posts to an HTTP subscriber)."""
    from vigil.service.notices.sns import add_topic

    print_result(lambda vigil: add_topic(vigil.db, vigil.settings, arn, url))


@topics_app.command("list")
def list_all() -> None:
    """Every registered topic and its URL."""
    from vigil.service.notices.sns import list_topics

    print_result(lambda vigil: list_topics(vigil.db))


@topics_app.command("remove")
def remove(arn: str) -> None:
    """Stop delivering messages for topic ARN."""
    from vigil.service.notices.sns import remove_topic

    print_result(lambda vigil: remove_topic(vigil.db, arn))
