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
}
