"""``latm sandbox ...``: build the image, check the engine, remove leftover containers."""

from pathlib import Path

import click

from latm.cli.render import console, emit_json, fail
from sandbox import SandboxUnavailable, docker_backend


@click.group("sandbox")
def sandbox_group() -> None:
    """The Docker sandbox: image, status, clean-up."""


@sandbox_group.command("build-image")
@click.option("--offline", is_flag=True, help="Build from a Debian root made by debootstrap.")
@click.option(
    "--rootfs",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Build from this root filesystem (must contain python3).",
)
@click.option("--tag", default=docker_backend.DEFAULT_IMAGE, show_default=True)
@click.option("--force", is_flag=True, help="Rebuild even when the image exists.")
def build_image(offline: bool, rootfs: Path | None, tag: str, force: bool) -> None:
    """Build the sandbox image (online: FROM python:3.12-slim)."""
    from sandbox import image

    try:
        if not force and docker_backend.image_exists(tag):
            console.print(f"{tag} already exists (use --force to rebuild)")
            return
        if rootfs or offline:
            image.build_offline(tag, rootfs, log=console.print)
        else:
            image.build_online(tag, log=console.print)
    except SandboxUnavailable as exc:
        fail(str(exc), 6)
    console.print(f"built {tag}")


@sandbox_group.command("status")
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Say whether a Docker engine answers and the sandbox image exists."""
    engine = docker_backend.engine_available()
    tag = docker_backend.DEFAULT_IMAGE
    has_image = engine and docker_backend.image_exists(tag)
    running = (
        len(docker_backend.docker_client().containers.list(filters={"label": docker_backend.LABEL})) if engine else 0
    )
    data = {
        "engine": engine,
        "image": tag,
        "image_exists": has_image,
        "containers": running,
        "backend": "docker" if has_image else "process",
    }
    if as_json:
        emit_json(data)
        return
    console.print(f"Docker engine: {'answers' if engine else 'not reachable'}")
    console.print(f"Image {tag}: {'present' if has_image else 'missing'}")
    console.print(f"LATM containers running: {running}")
    if not has_image:
        fix = "latm sandbox build-image --offline" if engine else "start dockerd, then latm sandbox build-image"
        console.print(f"backend='auto' will use the weaker process backend; fix: {fix}")


@sandbox_group.command("prune")
@click.option("--json", "as_json", is_flag=True)
def prune(as_json: bool) -> None:
    """Remove every container LATM started."""
    try:
        removed = docker_backend.prune()
    except SandboxUnavailable as exc:
        fail(str(exc), 6)
    if as_json:
        emit_json({"removed": removed})
    else:
        console.print(f"removed {removed} container(s)")
