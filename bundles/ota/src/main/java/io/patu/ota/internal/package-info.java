/** Over-the-air bundle updates: the device side (components) and the integrator's tool (OtaTool). */
package io.patu.ota.internal;
