// 'netns/containers': containers as their runtimes' state on disk records them (runc, crun,
// Docker, containerd, Podman, CRI-O), read without opening anything. Opening a container's
// namespace is NetNamespace.fromContainer() in the root export, which also has the options
// types (ContainerOptions, ContainerRuntime, DockerRoots).
export { listContainers, findContainer, containerName, containerLabel } from '../container/find.js';
export { defaultRoots as defaultContainerRoots, CONTAINER_RUNTIMES } from '../container/roots.js';
export type { ContainerInfo, ContainerRoot, KubernetesNames } from '../container/types.js';
