/**
 * Just enough Kubernetes CRI to make containerd 1.7 produce real NRI events offline: a grpc-js
 * client of CRI's RuntimeService/ImageService (api.proto from Debian trixie's
 * golang-github-kubernetes-cri-api-dev, unpacked by scripts/nri-peer.sh), and a one-layer OCI image
 * made from the busybox rootfs (scripts/containerd-setup.sh), imported with `ctr`. Pods use the
 * host network, so no CNI is needed; the same image is the sandbox ("pause") image.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const cache = process.env.TTRPC_CACHE || join(homedir(), ".cache", "ttrpc-ts");
/** The Go source tree holding k8s.io/cri-api and gogo.proto. */
export const CRI_PROTO_ROOT = join(cache, "nri-peer", "common", "usr", "share", "gocode", "src");
const CRI_PROTO = "k8s.io/cri-api/pkg/apis/runtime/v1/api.proto";
/** The busybox rootfs the image is made of. */
export const ROOTFS = process.env.TTRPC_ROOTFS || join(cache, "rootfs");
/** The image name (also configured as containerd's sandbox image). */
export const IMAGE = "docker.io/ttrpc-ts/busybox:nri";

/** What the CRI test needs besides containerd; empty when all is there. */
export function criMissing(): string[] {
  const out: string[] = [];
  if (!existsSync(join(CRI_PROTO_ROOT, CRI_PROTO)))
    out.push(`${CRI_PROTO} (run scripts/nri-peer.sh)`);
  if (!existsSync(join(ROOTFS, "bin/busybox")))
    out.push(`${ROOTFS} (run scripts/containerd-setup.sh)`);
  return out;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Writes an OCI image archive of the busybox rootfs into `dir`; returns its path. */
export function buildImage(dir: string): string {
  const work = join(dir, "image");
  mkdirSync(join(work, "blobs", "sha256"), { recursive: true });
  const layerPath = join(dir, "layer.tar");
  execFileSync("tar", ["-C", ROOTFS, "-cf", layerPath, "."]);
  const layer = readFileSync(layerPath);
  const put = (data: Buffer) => {
    const digest = sha256(data);
    writeFileSync(join(work, "blobs", "sha256", digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const layerDesc = put(layer);
  const config = put(
    Buffer.from(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Cmd: ["/bin/sleep", "3600"], Env: ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"] },
        rootfs: { type: "layers", diff_ids: [layerDesc.digest] },
      }),
    ),
  );
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layerDesc }],
      }),
    ),
  );
  writeFileSync(
    join(work, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          annotations: {
            "io.containerd.image.name": IMAGE,
            "org.opencontainers.image.ref.name": "nri",
          },
        },
      ],
    }),
  );
  writeFileSync(join(work, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const archive = join(dir, "image.tar");
  execFileSync("tar", ["-C", work, "-cf", archive, "."]);
  if (statSync(archive).size < layer.length) throw new Error("image archive too small");
  return archive;
}

/** A CRI RuntimeService client: `call("RunPodSandbox", {...})` with plain camelCase objects. */
export interface CriClient {
  call(method: string, request: object): Promise<Record<string, unknown>>;
  close(): void;
}

/** Connects a CRI RuntimeService client to containerd's gRPC socket. */
export function criClient(socket: string): CriClient {
  const def = protoLoader.loadSync(CRI_PROTO, {
    includeDirs: [CRI_PROTO_ROOT, "/usr/include"],
    longs: Number,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
  };
  const client = new pkg.runtime.v1.RuntimeService(
    `unix://${socket}`,
    grpc.credentials.createInsecure(),
  );
  type Unary = (
    req: object,
    options: grpc.CallOptions,
    cb: (err: Error | null, res: Record<string, unknown>) => void,
  ) => void;
  return {
    call(method, request) {
      const fn = (client as unknown as Record<string, Unary | undefined>)[method];
      if (typeof fn !== "function") return Promise.reject(new Error(`CRI has no method ${method}`));
      return new Promise((resolve, reject) =>
        fn.call(client, request, { deadline: Date.now() + 60_000 }, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      );
    },
    close: () => client.close(),
  };
}
