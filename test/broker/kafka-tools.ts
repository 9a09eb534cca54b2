import { spawn } from 'node:child_process';
import { readBrokerToolingEnvironment } from './environment';
import { findJava, standardJvmDirs } from './java';
import { kafkaMinimumJava, kafkaVersion } from './kafka-broker';
import { kafkaToolsClasspath } from './maven';

/** How a run of one of Kafka's tools ended. */
export interface KafkaToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Kafka's own command-line tools (`kafka-tools` from Maven Central, on the JDK the broker runs
 * on), by tool name as the release's scripts call them: `kafka-acls.sh` runs
 * `org.apache.kafka.tools.AclCommand`.
 */
const tools: Readonly<Record<string, string>> = {
  'kafka-acls.sh': 'org.apache.kafka.tools.AclCommand',
};

export async function runKafkaTool(script: string, args: readonly string[]): Promise<KafkaToolRun> {
  const mainClass = tools[script];
  if (mainClass === undefined) throw new Error(`no Kafka tool ${script} here (known: ${Object.keys(tools).join(', ')})`);
  const environment = readBrokerToolingEnvironment();
  const java = findJava(kafkaMinimumJava, `to run Kafka's ${script}`, { javaHome: environment.javaHome, pathDirs: environment.pathDirs, jvmDirs: standardJvmDirs });
  const classpath = await kafkaToolsClasspath(environment.cacheDir, kafkaVersion);
  return new Promise((resolve, reject) => {
    const child = spawn(java.executable, ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', classpath.join(':'), mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
