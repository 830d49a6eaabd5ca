#!/usr/bin/env bash
# npm run check:infra — proves the AWS deployment short of deploying it:
#  1. puts Bun (shipped by the `bun` npm package's platform package) where SST looks for it;
#  2. `sst install` generates .sst/platform: SST's components and their Pulumi types, from the npm
#     registry (no AWS account or credentials needed);
#  3. validates every stage's settings in stacks/;
#  4. type-checks sst.config.ts, infra/ and stacks/ against those types (tsconfig.infra.json).
set -euo pipefail
cd "$(dirname "$0")/.."

# The Bun binary comes in the platform package of the `bun` npm package (@oven/bun-<os>-<arch>).
# When npm runs `bun`'s install script, the script moves it to node_modules/bun/bin/bun.exe; when
# it does not (npm 11 asks before running dependencies' scripts), it stays where it came.
bun_bin=""
for candidate in $(node -e '
  const { dirname, join } = require("node:path");
  const req = require("node:module").createRequire(join(process.cwd(), "package.json"));
  const arch = { x64: "x64", arm64: "aarch64" }[process.arch];
  const musl = process.platform === "linux" && !process.report.getReport().header.glibcVersionRuntime;
  for (const name of [`@oven/bun-${process.platform}-${arch}${musl ? "-musl" : ""}`, `@oven/bun-${process.platform}-${arch}-baseline`])
    try { console.log(join(dirname(req.resolve(`${name}/package.json`)), "bin", "bun")); } catch {}
  try { console.log(join(dirname(req.resolve("bun/package.json")), "bin", "bun.exe")); } catch {}
'); do
  if [ -x "$candidate" ] && "$candidate" --version >/dev/null 2>&1; then bun_bin=$candidate; break; fi
done
[ -n "$bun_bin" ] || { echo "check:infra: no working Bun binary under node_modules (the bun package); run npm ci" >&2; exit 1; }

# SST looks in the user's config folder (XDG_CONFIG_HOME, else ~/.config); CI may run without HOME.
export HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
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
