// A short tour of Markbook through a client generated from openapi/openapi.json: sign in as
// the demo teacher, read the grid of their class in a subject, write one cell with the grid's
// ETag as If-Match, and see a stale If-Match refused with the cells changed since.
// No casts and no `any`: every type comes from the document.
//
//   MARKBOOK_URL=http://127.0.0.1:8000 node dist/tour.js
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];

const baseUrl = process.env.MARKBOOK_URL ?? "http://127.0.0.1:8000";
const username = process.env.MARKBOOK_USERNAME ?? "teacher@oakhill.example.org";
const password = process.env.MARKBOOK_PASSWORD ?? "markbook-demo";

function fail(step: string, problem: Problem | undefined, status: number): never {
  const why = problem ? `${problem.type}: ${problem.detail}` : "no problem body";
  throw new Error(`${step} answered ${status} (${why})`);
}

async function main(): Promise<void> {
  const markbook = createClient<paths>({ baseUrl });

  // Sign in: the OAuth2 password grant, form-encoded.
  const signIn = await markbook.POST("/v1/auth/token", {
    body: { grant_type: "password", username, password },
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!signIn.data) {
    const refused = signIn.error;
    // The token endpoint's refusals carry the OAuth error code; other problems do not.
    const why =
      refused && "error" in refused
        ? `${refused.error}: ${refused.error_description}`
        : `${signIn.response.status}`;
    throw new Error(`sign-in refused (${why})`);
  }
  const token = signIn.data.access_token;
  markbook.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  });

  const me = await markbook.GET("/v1/me");
  if (!me.data) return fail("GET /v1/me", me.error, me.response.status);
  const kind: "user" | "client" = me.data.kind;
  const schoolId = me.data.school_ids[0];
  if (schoolId === undefined) throw new Error("the teacher reaches no school");
  console.log(`signed in: ${me.data.name} (${kind}), school ${schoolId}`);

  const classes = await markbook.GET("/v1/schools/{school_id}/classes", {
    params: { path: { school_id: schoolId }, query: { limit: 100 } },
  });
  if (!classes.data) return fail("list classes", classes.error, classes.response.status);
  const subjects = await markbook.GET("/v1/subjects", {
    params: { query: { school_id: schoolId, limit: 100 } },
  });
  if (!subjects.data) return fail("list subjects", subjects.error, subjects.response.status);
  const myId = me.data.id;
  const taught = classes.data.items.find((c) => c.teacher_ids.includes(myId));
  const subject = subjects.data.items.find((s) => s.name === "Mathematics");
  if (taught === undefined || subject === undefined) throw new Error("no class or maths");

  // Read the grid; its ETag is the If-Match of the write.
  const where = { school_id: schoolId };
  const which = { class_id: taught.id, subject_id: subject.id };
  const grid = await markbook.GET("/v1/schools/{school_id}/markbook", {
    params: { path: where, query: which },
  });
  if (!grid.data) return fail("read grid", grid.error, grid.response.status);
  const etag = grid.response.headers.get("ETag") ?? `"${grid.data.version}"`;
  const pupil = grid.data.pupils[0];
  const objective = grid.data.objectives[0];
  const scale = grid.data.scales[0];
  const descriptor = scale?.descriptors.find((d) => d.secure) ?? scale?.descriptors[0];
  if (!pupil || !objective || !descriptor) throw new Error("the grid has nothing to judge");
  console.log(
    `grid of ${taught.code} in ${subject.name}: ${grid.data.pupils.length} pupils, ` +
      `${grid.data.objectives.length} objectives, version ${grid.data.version}, ETag ${etag}`,
  );

  // Write one cell, on the version read.
  const cell: components["schemas"]["CellIn"] = {
    pupil_id: pupil.id,
    objective_id: objective.id,
    descriptor: descriptor.code,
  };
  const saved = await markbook.POST("/v1/schools/{school_id}/markbook", {
    params: { path: where, query: { class_id: taught.id }, header: { "If-Match": etag } },
    body: { cells: [cell] },
  });
  if (!saved.data) return fail("write grid", saved.error, saved.response.status);
  console.log(
    `wrote cell ${pupil.name} x ${objective.code} = ${descriptor.code} ` +
      `(${saved.data.written} written, version now ${saved.data.version})`,
  );

  // The same write on the old ETag is refused: 412, with the cells changed since.
  const stale = await markbook.POST("/v1/schools/{school_id}/markbook", {
    params: { path: where, query: { class_id: taught.id }, header: { "If-Match": etag } },
    body: { cells: [{ ...cell, descriptor: null }] },
  });
  if (stale.response.status !== 412 || stale.error === undefined) {
    throw new Error(`a stale If-Match was answered ${stale.response.status}, not 412`);
  }
  if (!("cells" in stale.error)) throw new Error("the 412 carries no cells");
  const changed = stale.error.cells.map((c) => `${c.objective_id}=${c.descriptor ?? "cleared"}`);
  console.log(
    `stale write refused (${stale.error.type}): version ${stale.error.version}, ` +
      `changed since: ${changed.join(", ")}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
