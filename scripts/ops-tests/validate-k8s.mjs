// Validates the Kubernetes manifests in a folder: every object against the Kubernetes OpenAPI schema (npm package
// kubernetes-models), then what the schema cannot know: the GPU request, the probes' paths and ports, the
// preStop + drain fitting in the grace period, the Service and HPA pointing at the Deployment, the HPA metric
// coming from an adapter rule, and every barista flag existing (docs/configuration.md).
// Prints PASS/FAIL lines; exits 1 on any failure. Writes the adapter's queries, as PromQL, to $PROMQL_OUT if set.
//   node validate-k8s.mjs MANIFEST_DIR CONFIGURATION_MD
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments, parse } from "yaml";

const [dir, configurationMd] = process.argv.slice(2);
let failures = 0;
const check = (name, ok, detail = "") => {
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${ok || !detail ? "" : ": " + detail}`);
  if (!ok) failures++;
};

const objects = [];
for (const file of fs.readdirSync(dir).filter(f => f.endsWith(".yaml")).sort()) {
  for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), "utf8"))) {
    if (doc.errors.length) { check(`${file} parses`, false, doc.errors[0].message); continue; }
    const object = doc.toJS();
    if (object) objects.push({ file, object });
  }
}

for (const { file, object } of objects) {
  const name = `${file}: ${object.kind}/${object.metadata?.name}`;
  try {
    const module = await import(`kubernetes-models/${object.apiVersion}`);
    const Model = module[object.kind];
    if (!Model) throw new Error(`no kind ${object.kind} in ${object.apiVersion}`);
    new Model(object).validate();
    check(`${name} matches the Kubernetes schema`, true);
  } catch (e) {
    check(`${name} matches the Kubernetes schema`, false, e.message.split("\n")[0]);
  }
}

const find = kind => objects.map(o => o.object).find(o => o.kind === kind);
const deployment = find("Deployment");
const service = find("Service");
const hpa = find("HorizontalPodAutoscaler");
const adapter = objects.map(o => o.object).find(o => o.kind === "ConfigMap" && o.data?.["config.yaml"]);
if (!deployment || !service || !hpa || !adapter) {
  check("Deployment, Service, HPA and adapter ConfigMap present", false);
  process.exit(1);
}

const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const args = container.args ?? [];
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const port = flag("--port", 8000);
const portOf = ref => typeof ref === "number" ? ref : container.ports?.find(p => p.name === ref)?.containerPort;

check("the container requests and limits one nvidia.com/gpu",
  container.resources?.requests?.["nvidia.com/gpu"] !== undefined
    && container.resources?.limits?.["nvidia.com/gpu"] === container.resources?.requests?.["nvidia.com/gpu"]);
check("readiness probes GET /health on --port",
  container.readinessProbe?.httpGet?.path === "/health" && portOf(container.readinessProbe.httpGet.port) === port);
check("liveness probes GET /ping on --port",
  container.livenessProbe?.httpGet?.path === "/ping" && portOf(container.livenessProbe.httpGet.port) === port);

const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
const preStopSeconds = preStop[0] === "sleep" ? Number(preStop[1]) : NaN;
const drain = flag("--shutdown-timeout", 30);
const grace = pod.terminationGracePeriodSeconds ?? 30;
check(`terminationGracePeriodSeconds ${grace} >= preStop ${preStopSeconds} s + --shutdown-timeout ${drain} s + 5 s`,
  grace >= preStopSeconds + drain + 5);

const labels = deployment.spec.template.metadata.labels;
check("the Service selects the Deployment's pods",
  Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v));
check("the Service targets the container's --port",
  service.spec.ports.every(p => portOf(p.targetPort ?? p.port) === port));

check("the HPA scales the Deployment",
  hpa.spec.scaleTargetRef.kind === "Deployment" && hpa.spec.scaleTargetRef.name === deployment.metadata.name);
const rules = parse(adapter.data["config.yaml"]).rules ?? [];
const hpaMetric = hpa.spec.metrics.find(m => m.type === "Pods")?.pods?.metric?.name;
const rule = rules.find(r => r.name?.as === hpaMetric);
check(`the HPA's pods metric ${hpaMetric} is an adapter rule`, rule !== undefined);
check("that rule reads vllm:num_requests_waiting",
  rule !== undefined && /vllm:num_requests_waiting\b/.test(rule.seriesQuery)
    && new RegExp(rule.name.matches).test("vllm:num_requests_waiting"));

const documented = fs.readFileSync(configurationMd, "utf8");
const unknownFlags = args.filter(a => a.startsWith("--") && !documented.includes("`" + a + "`"));
check("every barista flag in the Deployment exists", unknownFlags.length === 0, unknownFlags.join(" "));

if (process.env.PROMQL_OUT) {
  // The adapter's metricsQuery templates filled in as the adapter would, for promtool to parse.
  const queries = rules.map((r, i) => `  - record: adapter_rule_${i}\n    expr: ${JSON.stringify(r.metricsQuery
    .replaceAll("<<.Series>>", "vllm:num_requests_waiting")
    .replaceAll("<<.LabelMatchers>>", 'namespace="default",pod=~"barista-.*"')
    .replaceAll("<<.GroupBy>>", "pod"))}`);
  fs.writeFileSync(process.env.PROMQL_OUT, "groups:\n- name: adapter\n  rules:\n" + queries.join("\n") + "\n");
}
process.exit(failures > 0 ? 1 : 0);
