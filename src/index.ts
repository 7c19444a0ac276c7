import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * Placeholder session plugin; the panel, status bar and kernel bridge build on it.
 */
const sessionPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-oidc:session',
  description: 'Keeps track of OpenID Connect sessions held by the server extension.',
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    void app;
  }
};

export default [sessionPlugin];
