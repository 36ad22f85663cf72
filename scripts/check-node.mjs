// Fails fast when npm scripts run on a Node older than the project's pinned runtime.
// npm itself runs on the system Node; the `node` devDependency puts Node 24 first on
// the PATH of npm scripts, so reaching here on an older Node means node_modules is
// missing or was installed with --ignore-scripts.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 17)) {
  console.error(
    `lark-auth-service needs Node >= 22.17 (the project pins Node 24 via the "node" devDependency), ` +
      `but this is Node ${process.versions.node}. Run "npm install" (without --ignore-scripts) and use npm scripts.`,
  );
  process.exit(1);
}
