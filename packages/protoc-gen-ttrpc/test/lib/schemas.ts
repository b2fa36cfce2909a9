/**
 * Every schema the differential and fuzz tests cover, as pairs of protobuf-es schemas and
 * generated codecs: the feature schemas (proto3, proto2, editions), containerd's Task/Events APIs
 * (packages/containerd: src/gen from protoc-gen-es, src/static/gen from protoc-gen-ttrpc, both by
 * its gen.sh) and NRI's API (packages/nri: src/gen and src/static/gen, both by its gen.sh).
 * @module
 */
import * as cdEvents from "../../../containerd/src/gen/events/task_pb.js";
import * as cdShim from "../../../containerd/src/gen/runtime/task/v2/shim_pb.js";
import * as cdEventsSvc from "../../../containerd/src/gen/services/ttrpc/events/v1/events_pb.js";
import * as cdMount from "../../../containerd/src/gen/types/mount_pb.js";
import * as cdTask from "../../../containerd/src/gen/types/task/task_pb.js";
import * as stEvents from "../../../containerd/src/static/gen/events/task_ttrpc.js";
import * as stShim from "../../../containerd/src/static/gen/runtime/task/v2/shim_ttrpc.js";
import * as stEventsSvc from "../../../containerd/src/static/gen/services/ttrpc/events/v1/events_ttrpc.js";
import * as stMount from "../../../containerd/src/static/gen/types/mount_ttrpc.js";
import * as stTask from "../../../containerd/src/static/gen/types/task/task_ttrpc.js";
import * as esNri from "../../../nri/src/gen/api_pb.js";
import * as stNri from "../../../nri/src/static/gen/api_ttrpc.js";
import * as esEd from "../gen/es/feature_editions_pb.js";
import * as es2 from "../gen/es/feature2_pb.js";
import * as es3 from "../gen/es/feature3_pb.js";
import * as in3 from "../gen/inline/feature3_ttrpc.js";
import * as oursEd from "../gen/ttrpc/feature_editions_ttrpc.js";
import * as ours2 from "../gen/ttrpc/feature2_ttrpc.js";
import * as ours3 from "../gen/ttrpc/feature3_ttrpc.js";
import { type Pair, pairs } from "./pairs.js";

/** Named groups of pairs. */
export const schemas: [string, Pair[]][] = [
  ["feature schema, proto3", pairs(es3, ours3)],
  ["feature schema, proto3, inlined helpers", pairs(es3, in3)],
  ["feature schema, proto2", pairs(es2, ours2)],
  ["feature schema, editions 2023", pairs(esEd, oursEd)],
  [
    "containerd Task/Events APIs",
    [
      ...pairs(cdShim, stShim),
      ...pairs(cdEvents, stEvents),
      ...pairs(cdEventsSvc, stEventsSvc),
      ...pairs(cdMount, stMount),
      ...pairs(cdTask, stTask),
    ],
  ],
  ["NRI API (nri 0.8.0)", pairs(esNri, stNri)],
];
