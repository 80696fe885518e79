/**
 * The YAML editing `scenario new` does: values set in the catalog's scenario with a comment on
 * the line that says where each came from. Its own module so the per-cause tuners
 * (new-accept-queue.ts, new-host.ts) and new.ts share it without importing one another.
 */
import { Document, isMap, isScalar, isSeq, Scalar, visit, YAMLMap, type Node } from "yaml";

/** A comment line broken into lines of at most `width` characters (each starting with a space). */
export function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const word of line.trim().split(/\s+/)) {
    if (cur && cur.length + word.length + 1 > width) {
      out.push(` ${cur}`);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  return [...out, ` ${cur}`];
}

/** A YAML edit that leaves a comment on the line it changes. */
export class Editor {
  constructor(readonly doc: Document) {}

  /** The block map at `path`, created (and un-flowed, so comments fit) as needed. */
  map(path: readonly string[]): YAMLMap {
    let node: unknown = this.doc.contents;
    for (const [i, seg] of path.entries()) {
      if (!isMap(node) && !isSeq(node))
        throw new Error(`${path.slice(0, i).join(".")} is not a mapping`);
      let next: unknown = node.get(isSeq(node) ? Number(seg) : seg, true);
      if (!isMap(next) && !isSeq(next)) {
        const created = new YAMLMap();
        node.set(isSeq(node) ? Number(seg) : seg, created);
        next = created;
      }
      node = next;
    }
    if (!isMap(node)) throw new Error(`${path.join(".")} is not a mapping`);
    node.flow = false;
    return node;
  }

  /**
   * Set `path` to `value`. `comment` replaces whatever comment the line had: after the value
   * when short and the value fits on the line, above the key otherwise.
   */
  set(path: readonly string[], value: unknown, comment?: string): void {
    const parent = this.map(path.slice(0, -1));
    const key = path.at(-1)!;
    const node = this.doc.createNode(value) as Node;
    if (isMap(node)) node.flow = Object.keys(value ?? {}).length <= 3;
    if (isScalar(node) && typeof value === "string" && value.length > 80)
      node.type = "BLOCK_FOLDED";
    // Comparisons start with an operator: quote them as the catalog does ("> 0").
    visit(node, {
      Scalar(_, s) {
        if (typeof s.value === "string" && /^[<>=!]/.test(s.value)) s.type = "QUOTE_DOUBLE";
      },
    });
    let pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair) pair.value = node;
    else {
      pair = this.doc.createPair(new Scalar(key), node);
      parent.items.push(pair);
    }
    if (comment === undefined) return;
    const k = pair.key as Scalar;
    const inline = (isScalar(node) || (isMap(node) && node.flow)) && comment.length <= 60;
    k.commentBefore = inline ? null : wrap(comment, 94).join("\n");
    if (inline) node.comment = ` ${comment}`;
  }

  /** Replace the comment above the node at `path` (a list item, a key's value). */
  note(path: readonly (string | number)[], comment: string): void {
    const node = this.doc.getIn(path, true) as Node | undefined;
    if (node) node.commentBefore = wrap(comment, 94).join("\n");
  }

  get(path: readonly string[]): unknown {
    return this.doc.getIn(path);
  }
}
