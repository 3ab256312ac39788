// Two steps of building a page app (xtask/src/page_apps.rs), in node
// because it is there anyway (Playwright, wasm-opt) and xtask stays
// std-only.
//
//   node xtask/page-apps.mjs strip IN OUT
//     Drops the linker's custom sections (`linking`, `reloc.*`, and
//     wasm-split's marker) that the build's `--emit-relocs` leaves in the
//     module: wasm-opt keeps what it does not understand, and they are
//     most of the file's bytes.
//
//   node xtask/page-apps.mjs publish NAME SCRIPT WASM PKG_DIR
//     Puts the app's script and wasm into the site's pkg directory as
//     `NAME.<hash>.js` and `NAME.<hash>.wasm` (a hash of the content, so
//     they can be cached for good), each with its `.br` and `.gz`, and
//     removes the files of that app's earlier builds.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const [step, ...args] = process.argv.slice(2);

/** An unsigned LEB128 number at `at`: its value and where it ends. */
function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function strip(input, output) {
  const module = readFileSync(input);
  if (module.readUInt32LE(0) !== 0x6d736100) throw new Error(`${input} is not a wasm module`);
  const kept = [module.subarray(0, 8)];
  let dropped = 0;
  for (let at = 8; at < module.length; ) {
    const start = at;
    const id = module[at];
    const [size, body] = leb(module, at + 1);
    at = body + size;
    if (id === 0) {
      const [length, name] = leb(module, body);
      const title = module.subarray(name, name + length).toString('utf8');
      if (title === 'linking' || title.startsWith('reloc.') || title === '__wasm_split_unstable') {
        dropped += at - start;
        continue;
      }
    }
    kept.push(module.subarray(start, at));
  }
  writeFileSync(output, Buffer.concat(kept));
  console.log(`page app: ${dropped} bytes of linker sections dropped from ${input}`);
}

function publish(name, script, wasm, pkg) {
  for (const file of readdirSync(pkg)) {
    if (file.startsWith(`${name}.`)) rmSync(join(pkg, file));
  }
  const hashOf = (bytes) => createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
  const put = (bytes, extension) => {
    const file = join(pkg, `${name}.${hashOf(bytes)}.${extension}`);
    writeFileSync(file, bytes);
    writeFileSync(
      `${file}.br`,
      brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    );
    writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
    console.log(`page app: ${file}`);
  };
  put(readFileSync(wasm), 'wasm');
  put(readFileSync(script), 'js');
}

if (step === 'strip' && args.length === 2) {
  strip(...args);
} else if (step === 'publish' && args.length === 4) {
  publish(...args);
} else {
  console.error('usage: node page-apps.mjs strip IN OUT | publish NAME SCRIPT WASM PKG_DIR');
  process.exit(2);
}
