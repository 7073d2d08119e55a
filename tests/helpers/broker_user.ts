/**
 * A RabbitMQ user with a chosen password on the test broker, for tests of
 * what dts shows of its credentials. Made with `rabbitmqctl` on this machine
 * (the broker's node must be local), deleted on dispose.
 * @module
 */

/** A user on the test broker and a URL that logs in as it, with the password as written. */
export interface BrokerUser extends AsyncDisposable {
  readonly name: string;
  /** `amqp://<name>:<password>@<host>:<port>/`, the password NOT percent-encoded. */
  readonly url: string;
}

/** Add a user with `password` and full rights on vhost `/`. */
export async function temporaryBrokerUser(
  brokerUrl: string,
  password: string,
): Promise<BrokerUser> {
  const name = `t_${crypto.randomUUID().slice(0, 8)}_user`;
  const { hostname, port } = new URL(brokerUrl);
  await rabbitmqctl("add_user", name, password);
  try {
    await rabbitmqctl("set_permissions", "-p", "/", name, ".*", ".*", ".*");
  } catch (error) {
    await rabbitmqctl("delete_user", name).catch(() => {});
    throw error;
  }
  return {
    name,
    url: `amqp://${name}:${password}@${hostname}:${port || 5672}/`,
    [Symbol.asyncDispose]: async () => {
      await rabbitmqctl("delete_user", name).catch(() => {});
    },
  };
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  const output = await new Deno.Command("rabbitmqctl", { args, stdout: "null", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `Cannot run rabbitmqctl ${args[0]}: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
}
