"""Builds the sandbox image: online from the Dockerfile, offline from a Debian root filesystem."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from sandbox.docker_backend import DEFAULT_IMAGE, LABEL, docker_client
from sandbox.errors import SandboxUnavailable
from sandbox.settings import SandboxSettings

DOCKERFILE_DIR = Path(__file__).parent / "image"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
# Files a sandbox never needs; dropping them halves the image.
PRUNE = [
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "var/cache/apt",
    "var/lib/apt/lists",
]
IMAGE_CHANGES = ["USER 65534:65534", "WORKDIR /tmp", 'CMD ["python3"]', f"LABEL {LABEL}.image=1"]

Log = Callable[[str], None]


def build_online(tag: str = DEFAULT_IMAGE, log: Log = print) -> str:
    """``docker build`` from sandbox/image/Dockerfile (needs a registry for python:3.12-slim)."""
    client = docker_client()
    log(f"building {tag} from {DOCKERFILE_DIR / 'Dockerfile'}")
    try:
        client.images.build(path=str(DOCKERFILE_DIR), tag=tag, rm=True, pull=False)
    except Exception as exc:
        raise SandboxUnavailable(
            f"building {tag} online failed ({exc}); where no registry is reachable use "
            "`latm sandbox build-image --offline` (debootstrap) instead"
        ) from exc
    return tag


def debootstrap_rootfs(target: Path, log: Log = print) -> Path:
    """A minimal Debian root with python3, made by debootstrap (root and Debian's mirror)."""
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable("debootstrap is not installed: `apt-get install -y debootstrap`")
    if os.geteuid() != 0:
        raise SandboxUnavailable("debootstrap needs root; run the build as root or pass --rootfs DIR")
    settings = SandboxSettings.load()
    suite = settings.debian_suite or DEBIAN_SUITE
    mirror = settings.debian_mirror or DEBIAN_MIRROR
    log(f"debootstrap {suite} with python3 into {target} (about 30 s)")
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=python3", suite, str(target), mirror],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SandboxUnavailable(f"debootstrap failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return target


def import_rootfs(rootfs: Path, tag: str = DEFAULT_IMAGE, log: Log = print) -> str:
    """``docker import`` of a root filesystem that contains python3."""
    if not any((rootfs / p).exists() for p in ("usr/bin/python3", "usr/local/bin/python3")):
        raise SandboxUnavailable(f"{rootfs} has no python3 (usr/bin or usr/local/bin)")
    for rel in PRUNE:
        shutil.rmtree(rootfs / rel, ignore_errors=True)
    repo, _, version = tag.partition(":")
    with tempfile.TemporaryDirectory(prefix="latm-image-") as tmp:
        tarball = Path(tmp) / "rootfs.tar"
        log(f"packing {rootfs}")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        log(f"importing as {tag}")
        docker_client().api.import_image_from_file(
            str(tarball), repository=repo, tag=version or "latest", changes=IMAGE_CHANGES
        )
    return tag


def build_offline(tag: str = DEFAULT_IMAGE, rootfs: Path | None = None, log: Log = print) -> str:
    if rootfs is not None:
        return import_rootfs(rootfs, tag, log)
    with tempfile.TemporaryDirectory(prefix="latm-rootfs-") as tmp:
        root = debootstrap_rootfs(Path(tmp) / "root", log)
        return import_rootfs(root, tag, log)
