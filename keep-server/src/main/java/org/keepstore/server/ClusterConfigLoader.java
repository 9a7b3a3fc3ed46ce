package org.keepstore.server;

import java.nio.file.Path;

/**
 * The one place where an Arvados-style YAML cluster config ({@code -config FILE}) becomes
 * {@link ServerSettings}. Until the config loader exists, a {@code -config} flag is refused at
 * startup rather than silently ignored.
 */
public final class ClusterConfigLoader {
    private ClusterConfigLoader() {
    }

    /**
     * Settings from {@code configFile}; {@code fromFlags} holds what the command line said, for
     * flags that still apply next to a config (e.g. {@code -pid}).
     */
    public static ServerSettings load(Path configFile, ServerSettings fromFlags) throws StartupException {
        throw new StartupException("-config " + configFile + ": cluster config files are not supported yet;"
                + " use the command-line flags");
    }
}
