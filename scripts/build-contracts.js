#!/usr/bin/env node
// Compiles the reference contracts in contracts/src (and OpenZeppelin's
// TimelockController) with the pinned npm `solc`, writing one artifact per
// contract to contracts/out/<Name>.json: { abi, bytecode, deployedBytecode }.
// The artifacts are committed so the Rust crate builds without Node.
// Each contract is also built for older EVMs (EXTRA_EVMS), into
// contracts/out/<evm>/<Name>.json, for `govstate devnet --hardfork` on a
// chain that does not run the newest opcodes (no PUSH0 before Shanghai, no
// MCOPY/TSTORE before Cancun).
// Safe v1.4.1 is not compiled here: its artifacts are copied as shipped by
// the pinned npm package @safe-global/safe-contracts (the audited bytecode).
//
//   node scripts/build-contracts.js          write contracts/out/*.json
//   node scripts/build-contracts.js --check  exit 1 when they are stale
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const root = path.resolve(__dirname, '..');
const srcDir = path.join(root, 'contracts', 'src');
const outDir = path.join(root, 'contracts', 'out');
const nodeModules = path.join(root, 'node_modules');

// Contracts whose artifacts govstate uses: [source unit, contract name].
const TARGETS = [
  ['SelfPlayArena.sol', 'SelfPlayArena'],
  ['StakeManager.sol', 'StakeManager'],
  ['SystemPause.sol', 'SystemPause'],
  ['SystemPauseModules.sol', 'SystemPauseModules'],
  ['PausableModule.sol', 'PausableModule'],
  ['Multicall3.sol', 'Multicall3'],
  ['@openzeppelin/contracts/governance/TimelockController.sol', 'TimelockController'],
];

// The newest EVM the main artifacts are built for.
const DEFAULT_EVM = 'cancun';

// Older EVMs the same sources are also built for: [evm version, directory].
const EXTRA_EVMS = [
  ['berlin', 'berlin'],
  ['shanghai', 'shanghai'],
];

// Safe contracts taken as compiled by their package: [artifact path, name].
const SAFE_ARTIFACTS = [
  ['contracts/SafeL2.sol/SafeL2.json', 'SafeL2'],
  ['contracts/proxies/SafeProxyFactory.sol/SafeProxyFactory.json', 'SafeProxyFactory'],
  ['contracts/libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json', 'MultiSendCallOnly'],
];

function safeArtifacts() {
  const pkg = path.join(nodeModules, '@safe-global', 'safe-contracts');
  const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
  const artifacts = {};
  for (const [file, name] of SAFE_ARTIFACTS) {
    const shipped = JSON.parse(fs.readFileSync(path.join(pkg, 'build', 'artifacts', file), 'utf8'));
    const artifact = {
      contractName: name,
      compiler: `@safe-global/safe-contracts ${version} (shipped artifact)`,
      abi: shipped.abi,
      bytecode: { object: shipped.bytecode },
      deployedBytecode: { object: shipped.deployedBytecode },
    };
    artifacts[`${name}.json`] = `${JSON.stringify(artifact, null, 2)}\n`;
  }
  return artifacts;
}

function readImport(importPath) {
  const candidates = [path.join(srcDir, importPath), path.join(nodeModules, importPath)];
  for (const file of candidates) {
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, 'utf8') };
  }
  return { error: `import not found: ${importPath} (run npm ci)` };
}

function compilerInput(evmVersion) {
  const sources = {};
  for (const [unit] of TARGETS) {
    const found = readImport(unit);
    if (found.error) throw new Error(found.error);
    sources[unit] = { content: found.contents };
  }
  return {
    language: 'Solidity',
    sources,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion,
      metadata: { bytecodeHash: 'none', appendCBOR: false },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
}

function compile(evmVersion, dir) {
  const output = JSON.parse(solc.compile(JSON.stringify(compilerInput(evmVersion)), { import: readImport }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  }
  const artifacts = {};
  for (const [unit, name] of TARGETS) {
    const contract = output.contracts[unit][name];
    const artifact = {
      contractName: name,
      compiler: dir === '' ? `solc ${solc.version()}` : `solc ${solc.version()} (evm ${evmVersion})`,
      abi: contract.abi,
      bytecode: { object: `0x${contract.evm.bytecode.object}` },
      deployedBytecode: { object: `0x${contract.evm.deployedBytecode.object}` },
    };
    artifacts[path.join(dir, `${name}.json`)] = `${JSON.stringify(artifact, null, 2)}\n`;
  }
  return artifacts;
}

function main() {
  const check = process.argv.includes('--check');
  let artifacts = { ...compile(DEFAULT_EVM, ''), ...safeArtifacts() };
  for (const [evm, dir] of EXTRA_EVMS) {
    artifacts = { ...artifacts, ...compile(evm, dir) };
  }
  const stale = [];
  for (const [file, text] of Object.entries(artifacts)) {
    const target = path.join(outDir, file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (current === text) continue;
    if (check) {
      stale.push(path.relative(root, target));
    } else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text);
      console.log(`wrote ${path.relative(root, target)}`);
    }
  }
  if (stale.length > 0) {
    console.error(`contract artifacts are stale: ${stale.join(', ')}`);
    console.error('run `npm run build:contracts` and commit contracts/out/');
    process.exit(1);
  }
  if (check) console.log(`contract artifacts are up to date (${Object.keys(artifacts).length} contracts)`);
}

try {
  main();
} catch (err) {
  console.error(`error: ${err.message}`);
  process.exit(1);
}
