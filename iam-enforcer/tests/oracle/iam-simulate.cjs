// The differential oracle for agentward's IAM evaluator: reads cases (JSON Lines:
// {policies: [{name, policy}], action, resource, context}) on stdin and writes, per case,
// one line: iam-simulate's overall result, or "error: ..." when it refused the case.
// @cloud-copilot/iam-simulate is AGPL-3.0: it is installed by scripts/test into a cache
// directory (AGENTWARD_IAM_SIMULATE) and run as a separate process, never shipped or linked.
const { createRequire } = require('node:module')
const path = require('node:path')
const readline = require('node:readline')

const dir = process.env.AGENTWARD_IAM_SIMULATE
if (!dir) {
  console.error('AGENTWARD_IAM_SIMULATE is not set: the directory iam-simulate is installed in')
  process.exit(2)
}
const { runSimulation } = createRequire(path.join(dir, 'package.json'))('@cloud-copilot/iam-simulate')

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line.trim()) continue
    const c = JSON.parse(line)
    const response = await runSimulation(
      {
        request: {
          principal: 'arn:aws:iam::111122223333:role/agentward-differential',
          action: c.action,
          resource: { resource: c.resource, accountId: '111122223333' },
          contextVariables: c.context
        },
        identityPolicies: c.policies,
        serviceControlPolicies: [],
        resourceControlPolicies: []
      },
      {}
    )
    if (response.resultType === 'error') {
      process.stdout.write('error: ' + JSON.stringify(response.errors) + '\n')
    } else {
      const ignored = response.result?.ignoredContextKeys ?? []
      process.stdout.write(response.overallResult + (ignored.length ? ' ignored:' + ignored.join(',') : '') + '\n')
    }
  }
}
main().catch((e) => {
  console.error(e)
  process.exit(1)
})
