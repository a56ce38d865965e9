// A real PLC directory + atproto PDS on 127.0.0.1 for Masthead's Bluesky tests.
//
// Usage: node serve.mjs <plc-port> <pds-port> <data-dir> [--rate-limits]
// Prints one JSON line {"plc": url, "pds": url} once both answer, then runs until its standard
// input closes (so it dies with the test process that started it) or it gets SIGTERM.
import http from 'node:http'
import path from 'node:path'
import * as plc from '@did-plc/server'
import { PDS } from '@atproto/pds'
import { Secp256k1Keypair } from '@atproto/crypto'
import * as ui8 from 'uint8arrays'

// Neither server has a bind-address option: every listen() here is pinned to loopback.
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number') {
    const callback = args.find((arg) => typeof arg === 'function')
    return listen.call(this, args[0], '127.0.0.1', ...(callback ? [callback] : []))
  }
  return listen.apply(this, args)
}

const [plcPort, pdsPort, dir] = process.argv.slice(2, 5).map((v, i) => (i < 2 ? Number(v) : v))
const rateLimits = process.argv.includes('--rate-limits')

const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort })
await plcServer.start()
const rotation = await Secp256k1Keypair.create({ exportable: true })
const pds = await PDS.fromEnv({
  devMode: true,
  port: pdsPort,
  hostname: 'localhost',
  dataDirectory: dir,
  blobstoreDiskLocation: path.join(dir, 'blobs'),
  didPlcUrl: `http://127.0.0.1:${plcPort}`,
  recoveryDidKey: (await Secp256k1Keypair.create()).did(),
  adminPassword: 'admin-pass',
  jwtSecret: 'jwt-secret',
  serviceHandleDomains: ['.test'],
  // No AppView, moderation service or CDN offline: names that can never resolve.
  bskyAppViewUrl: 'https://appview.invalid',
  bskyAppViewDid: 'did:example:invalid',
  bskyAppViewCdnUrlPattern: 'http://cdn.appview.invalid/%s/%s/%s',
  modServiceUrl: 'https://moderator.invalid',
  modServiceDid: 'did:example:invalid',
  plcRotationKeyK256PrivateKeyHex: ui8.toString(await rotation.export(), 'hex'),
  inviteRequired: false,
  disableSsrfProtection: true,
  rateLimitsEnabled: rateLimits,
})
await pds.start()

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await pds.destroy()
  await plcServer.destroy()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.on('close', stop)
process.stdin.resume()

console.log(JSON.stringify({ plc: `http://127.0.0.1:${plcPort}`, pds: `http://127.0.0.1:${pdsPort}` }))
