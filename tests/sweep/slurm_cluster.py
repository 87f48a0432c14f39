"""A real single-node Slurm for the tests: munged, slurmctld and slurmd started as root under a tmp dir.

Nothing is installed here (``.ci/run`` installs Debian's ``slurmctld slurmd slurm-client munge``). The
cluster has one node (this host's ``hostname -s``, all its CPUs), one partition ``debug``, no
cgroups (``proctrack/linuxproc``, ``task/none``) and no accounting database: ``sacct`` does not
work, ``squeue`` keeps finished jobs for ``MinJobAge`` seconds. Its own munge socket and ports, so a
system Slurm beside it is not touched. ``SLURM_CONF`` in the environment points the client commands
(``sbatch``, ``squeue``, ``scancel``; submitit calls them) at it.

``start_cluster`` raises :class:`ClusterUnavailable` with the reason where a step fails; the session
fixture ``slurm_cluster`` turns that into a skip, and stops every daemon at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel")


class ClusterUnavailable(RuntimeError):
    """Slurm cannot be started here; the message says why."""


@dataclass
class SlurmCluster:
    folder: Path
    conf: Path
    node: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def command(self, *argv: str, timeout: float = 30) -> str:
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise ClusterUnavailable(f"{' '.join(argv)} failed: {(done.stderr or done.stdout).strip()[-400:]}")
        return done.stdout

    def log_tail(self) -> str:
        parts = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            path = self.folder / name
            if path.is_file():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(parts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SLURM_CONF = """\
ClusterName=harness-test
SlurmctldHost={node}
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={folder}/munge/munge.socket
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
KillWait=2
InactiveLimit=0
SchedulerParameters=sched_interval=1
NodeName={node} CPUs={cpus} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
"""


def start_cluster(folder: Path, timeout_s: float = 60) -> SlurmCluster:
    """Start munged, slurmctld and slurmd under ``folder``; wait until ``sinfo`` shows the node idle."""
    if os.geteuid() != 0:
        raise ClusterUnavailable("not root: the test Slurm runs its daemons as root")
    missing = [name for name in DAEMONS if shutil.which(name) is None and not Path("/usr/sbin", name).exists()]
    if missing:
        raise ClusterUnavailable(
            f"not installed: {', '.join(missing)} (apt-get install slurmctld slurmd slurm-client munge)"
        )
    node = socket.gethostname().split(".")[0]
    for sub in ("munge", "state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    key = folder / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = folder / "slurm.conf"
    conf.write_text(
        SLURM_CONF.format(
            node=node,
            folder=folder,
            cpus=os.cpu_count() or 1,
            ctld_port=_free_port(),
            slurmd_port=_free_port(),
        )
    )
    cluster = SlurmCluster(folder, conf, node)
    munged = shutil.which("munged") or "/usr/sbin/munged"
    munge_args = [
        munged,
        "--foreground",
        "--force",
        f"--key-file={key}",
        f"--socket={folder / 'munge' / 'munge.socket'}",
        f"--pid-file={folder / 'munge' / 'munged.pid'}",
        f"--log-file={folder / 'munged.log'}",
        f"--seed-file={folder / 'munge' / 'munged.seed'}",
    ]
    try:
        for argv in (
            munge_args,
            [shutil.which("slurmctld") or "/usr/sbin/slurmctld", "-D", "-c", "-f", str(conf)],
            [shutil.which("slurmd") or "/usr/sbin/slurmd", "-D", "-c", "-f", str(conf)],
        ):
            log = open(folder / f"{Path(argv[0]).name}.out", "w")  # noqa: SIM115 (the daemon keeps it)
            cluster.processes.append(
                subprocess.Popen(argv, env=cluster.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            )
            time.sleep(0.5)
            if cluster.processes[-1].poll() is not None:
                raise ClusterUnavailable(f"{Path(argv[0]).name} exited at start:\n{cluster.log_tail()}")
        deadline = time.monotonic() + timeout_s
        state = ""
        while time.monotonic() < deadline:
            try:
                state = cluster.command("sinfo", "-h", "-N", "-o", "%T").strip()
            except (ClusterUnavailable, subprocess.TimeoutExpired):
                state = ""
            if state == "idle":
                return cluster
            time.sleep(0.5)
        raise ClusterUnavailable(f"node not idle after {timeout_s:.0f} s (sinfo: {state!r}):\n{cluster.log_tail()}")
    except BaseException:
        stop_cluster(cluster)
        raise


def stop_cluster(cluster: SlurmCluster) -> None:
    """Cancel every job, then stop the daemons this module started (slurmd, slurmctld, munged)."""
    if len(cluster.processes) >= 2:
        subprocess.run(["scancel", "--full", "--user=root"], env=cluster.env, capture_output=True, timeout=30)
        deadline = time.monotonic() + 20  # let slurmd end the job steps before it stops (no stray slurmstepd)
        while time.monotonic() < deadline:
            listed = subprocess.run(
                ["squeue", "-h", "--states=RUNNING,COMPLETING,CONFIGURING", "-o", "%i"],
                env=cluster.env,
                capture_output=True,
                text=True,
                timeout=30,
            )
            if listed.returncode != 0 or not listed.stdout.strip():
                break
            time.sleep(0.5)
    for process in reversed(cluster.processes):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
    cluster.processes.clear()


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """The running single-node Slurm (``SLURM_CONF`` set for the session); skips with the reason where it cannot start."""
    folder = tmp_path_factory.mktemp("slurm")
    try:
        cluster = start_cluster(folder)
    except ClusterUnavailable as error:
        pytest.skip(f"no test Slurm: {error}")
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous
