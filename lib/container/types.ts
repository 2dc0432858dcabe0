// What the container readers report: one container found in a runtime's state on disk.

/**
 * Where a container was found: the OCI runtime's own root (`runc`, `crun`), or the engine
 * whose root or bundle annotations name it (`docker`, `containerd`, `podman`, `cri-o`).
 */
export type ContainerRuntime = 'runc' | 'crun' | 'docker' | 'containerd' | 'podman' | 'cri-o';

/** The Kubernetes names of a container, from its bundle's OCI annotations (CRI plugin or CRI-O). */
export interface KubernetesNames {
  /** Pod namespace (`io.kubernetes.cri.sandbox-namespace` / `io.kubernetes.pod.namespace`). */
  podNamespace?: string;
  /** Pod name (`io.kubernetes.cri.sandbox-name` / `io.kubernetes.pod.name`). */
  podName?: string;
  /** Pod UID (`io.kubernetes.cri.sandbox-uid` / `io.kubernetes.pod.uid`). */
  podUid?: string;
  /** Container name (`io.kubernetes.cri.container-name` / `io.kubernetes.container.name`); absent for the sandbox. */
  containerName?: string;
  /** `sandbox` for the pod's pause container, `container` for the others. */
  type?: 'sandbox' | 'container';
  /** Id of the pod sandbox the container belongs to. */
  sandboxId?: string;
}

/**
 * Who could have written what a container record says: `root` when root owns every file it
 * came from (the state file, its bundle's config.json, the file its name came from) and every
 * directory on the way to them, and no other user may write any of them; `self` when the
 * caller (not root) owns some of them and root the rest; `untrusted` when another user owns
 * one or may write one (a rootless runtime's root, /run/user/UID/runc, is its user's). A sticky
 * directory anyone may write (/tmp) counts as its entries' owners. ACLs are not looked at.
 */
export type ContainerTrust = 'root' | 'self' | 'untrusted';

/**
 * What was wrong with a file: `symlink` (a link where a file or directory should be: not
 * followed), `not-a-file` (a FIFO, device, socket or directory: not opened for reading),
 * `not-a-directory`, `too-large` (over the size limit: not read), `too-deep` (JSON nested
 * deeper than the limit: not parsed), `not-json`, `bad-field` (a field of the wrong type, or a
 * required one missing), `id-mismatch` (a state file recording another id than its
 * directory's name), `foreign-owner` (a file a user's state file points to, owned by another
 * user: not read into that user's record), `unreadable` (open or read failed).
 */
export type StateFileProblem =
  | 'symlink'
  | 'not-a-file'
  | 'not-a-directory'
  | 'too-large'
  | 'too-deep'
  | 'not-json'
  | 'bad-field'
  | 'id-mismatch'
  | 'foreign-owner'
  | 'unreadable';

/**
 * A state or config file that was skipped: reported (to {@link ContainerOptions.onError}, in
 * the audit's `skipped`, on the CLI's stderr), and the scan goes on.
 */
export interface ContainerStateError {
  /**
   * Errno-like: `EFBIG` too large, `ELOOP` a link, `ENOTDIR`, `EPERM` another user's file,
   * `EINVAL` (not a file, too deep, not JSON, a bad field, another id), or the open's own.
   */
  code: string;
  /** What was wrong (see {@link StateFileProblem}). */
  reason: StateFileProblem;
  /** The file or directory, exact (a name in it may hold any byte: printable() it for a person). */
  path: string;
  /** For a person: the code, what was wrong, and the path escaped by printable(). */
  message: string;
  /** How far the directory it is in may be trusted (a bad file in a user's root is that user's). */
  trust: ContainerTrust;
  /** The uid owning it, when it could be opened. */
  owner?: number;
  /**
   * `container`: it was the container's state file (or its directory), and that container is
   * not listed; `file`: a file that only adds names or annotations (a bundle's config.json,
   * Docker's config.v2.json, containers.json), and the containers are listed without them.
   */
  skipped: 'container' | 'file';
}

/** One container, as its runtime's state on disk describes it. */
export interface ContainerInfo {
  /** Which runtime or engine keeps it (see {@link ContainerRuntime}). */
  runtime: ContainerRuntime;
  /** The OCI runtime whose state file this is. */
  oci: 'runc' | 'crun';
  /** The full container id. */
  id: string;
  /** A name the runtime keeps for it: Docker's, Podman's, or Kubernetes' container (or pod, for a sandbox) name. */
  name?: string;
  /** containerd namespace (`k8s.io`, `moby`, `default`...), for containerd's runc shim. */
  namespace?: string;
  /** Pid of the container's init process, as recorded. */
  pid: number;
  /** The init process's start time as recorded (clock ticks after boot, field 22 of /proc/PID/stat). */
  startTime: number;
  /** Whether that process is alive and is the one recorded (same start time). */
  running: boolean;
  /** When the container was created (RFC 3339), if recorded. */
  created?: string;
  /**
   * The OCI bundle directory, from runc's `bundle=` label or crun's status: its `config.json` is
   * the spec the container was started with (`linux.sysctl` holds what `docker run --sysctl`,
   * `podman run --sysctl` or Kubernetes asked for). Docker's is in its containerd's state
   * (`/run/containerd/io.containerd.runtime.v2.task/moby/ID`, or below the exec-root when
   * dockerd runs its own containerd), Podman's in containers-storage
   * (`GRAPHROOT/DRIVER-containers/ID/userdata`).
   */
  bundle?: string;
  /** The state file read (state.json or status). */
  stateFile: string;
  /** The OCI annotations: the bundle's config.json, and those runc's state file records as labels. */
  annotations: Record<string, string>;
  /**
   * The sysctls the container's spec asked for at start (OCI `linux.sysctl`: what `docker run
   * --sysctl`, Kubernetes `securityContext.sysctls` and runtime defaults such as
   * `net.ipv4.ping_group_range` become), keys as the spec spells them. From runc's state file
   * (`config.sysctl`, what runc applied at creation) when it records them, else from the
   * bundle's `config.json`; absent when neither has the map.
   */
  sysctl?: Record<string, string>;
  /** The file {@link sysctl} was read from. */
  sysctlSource?: string;
  /** Kubernetes names, when the annotations carry them. */
  kubernetes?: KubernetesNames;
  /**
   * Who could have written this record's id, names and annotations ({@link ContainerTrust}):
   * `untrusted` means a user other than root (and the caller) could have, so its names and
   * labels are that user's claims. Whether its process is its own is checked apart: a state file
   * of a user other than root names only that user's processes (`running` is false otherwise).
   */
  trust: ContainerTrust;
  /** The uid owning the state file. */
  owner: number;
  /** When `trust` is not `root`: the first file or directory on the way that made it so. */
  untrustedPath?: string;
}

/** One directory of container state to read. */
export interface ContainerRoot {
  /** What to report as the container's runtime. */
  runtime: ContainerRuntime;
  /** The directory: an OCI runtime root (ID/state.json, ID/status), or containerd's runc root (NAMESPACE/ID/state.json). */
  dir: string;
  /**
   * Docker only: the daemon's data-root, where it keeps its names (`containers/ID/config.v2.json`).
   * Default: {@link DockerRoots.dataRoot}'s default.
   */
  dataRoot?: string;
}

/** Where a dockerd keeps its state: what it was started with as `--exec-root` and `--data-root`. */
export interface DockerRoots {
  /** Its `--exec-root` (default `/run/docker`, or NETNS_DOCKER_EXEC_ROOT): runc's state is in `EXEC_ROOT/runtime-runc/moby`. */
  execRoot?: string;
  /** Its `--data-root` (default `/var/lib/docker`, or NETNS_DOCKER_DATA_ROOT): names in `DATA_ROOT/containers/ID/config.v2.json`. */
  dataRoot?: string;
}

/** Where to look for containers. */
export interface ContainerOptions {
  /** Only containers of this runtime. */
  runtime?: ContainerRuntime;
  /**
   * Look only in this directory (its layout is recognised: runc, crun or containerd's).
   * Without `runtime`, its containers are reported as `runc`/`crun` (or by their bundle's engine).
   */
  root?: string;
  /** The directories to search instead of the defaults (and of NETNS_CONTAINER_ROOTS). */
  roots?: ContainerRoot[];
  /**
   * A dockerd started with `--exec-root` / `--data-root` elsewhere than the defaults (instead of
   * NETNS_DOCKER_EXEC_ROOT / NETNS_DOCKER_DATA_ROOT). `execRoot` replaces `/run/docker` in the
   * default roots; `dataRoot` is where the names of every Docker root without its own are read.
   */
  docker?: DockerRoots;
  /**
   * Called with each state or config file that was skipped (too large, too deep, a link, a
   * FIFO, not JSON, a field of the wrong type...); the scan goes on. Without it, such files are
   * skipped silently (auditHost() reports them in `skipped`).
   */
  onError?: (error: ContainerStateError) => void;
}
