// checkpoint-worker.js is imported `with { type: "file" }`: its default export is the file's path.
declare const path: string;
export default path;
