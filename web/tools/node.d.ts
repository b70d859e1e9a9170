// The little of Node's API that tools/ uses (no @types/node dependency for one script).
declare const process: {
  argv: string[];
  env: Record<string, string | undefined>;
  exit(code?: number): never;
};
