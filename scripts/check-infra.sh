#!/usr/bin/env bash
# npm run check:infra — proves the AWS deployment short of deploying it:
#  1. puts Bun (shipped by the `bun` npm package's platform package) where SST looks for it;
#  2. `sst install` generates .sst/platform: SST's components and their Pulumi types, from the npm
#     registry (no AWS account or credentials needed);
#  3. validates every stage's settings in stacks/;
#  4. type-checks sst.config.ts, infra/ and stacks/ against those types (tsconfig.infra.json).
set -euo pipefail
cd "$(dirname "$0")/.."

# The `bun` package's own install script (which npm does not run for dependencies) would link this
# binary; the platform package beside it holds the real one.
bun_bin=$(node -e '
  const { createRequire } = require("node:module");
  const req = createRequire(process.cwd() + "/package.json");
  const arch = { x64: "x64", arm64: "aarch64" }[process.arch];
  const musl = process.platform === "linux" && !process.report.getReport().header.glibcVersionRuntime;
  const names = [`@oven/bun-${process.platform}-${arch}${musl ? "-musl" : ""}`, `@oven/bun-${process.platform}-${arch}-baseline`];
  for (const name of names) {
    try { console.log(require("node:path").join(require("node:path").dirname(req.resolve(`${name}/package.json`)), "bin", "bun")); process.exit(0); } catch {}
  }
  process.exit(1);
') || { echo "check:infra: no Bun binary for this platform under node_modules/@oven; run npm ci" >&2; exit 1; }
[ -x "$bun_bin" ] || { echo "check:infra: $bun_bin is missing or not executable; run npm ci again" >&2; exit 1; }

sst_bin_dir="${XDG_CONFIG_HOME:-$HOME/.config}/sst/bin"
mkdir -p "$sst_bin_dir"
if ! cmp -s "$bun_bin" "$sst_bin_dir/bun"; then
  cp "$bun_bin" "$sst_bin_dir/bun.tmp" && mv -f "$sst_bin_dir/bun.tmp" "$sst_bin_dir/bun"
fi
echo "check:infra: Bun $("$sst_bin_dir/bun" --version) at $sst_bin_dir/bun"

# SST_SKIP_DEPENDENCY_CHECK: use that Bun rather than download SST's pinned one (no internet).
export SST_SKIP_DEPENDENCY_CHECK=1 SST_TELEMETRY_DISABLED=1
npx --no-install sst install --stage ci < /dev/null
[ -f .sst/platform/config.d.ts ] || { echo "check:infra: sst install did not generate .sst/platform" >&2; exit 1; }

AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true npx --no-install tsx -e '
  import("./stacks/index.ts").then(({ settingsFor }) => {
    for (const stage of ["dev", "production"]) settingsFor(stage);
    console.log("check:infra: stage settings valid (dev, production)");
  });
'
npx --no-install tsc -p tsconfig.infra.json
echo "check:infra: sst.config.ts, infra/ and stacks/ type-check against SST $(cat .sst/platform/version 2>/dev/null || echo '?')"
