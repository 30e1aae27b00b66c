/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user {\n        id\n        email\n        tier\n        createdAt\n      }\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation CreateBusinessInfo($input: CreateBusinessInfoInput!) {\n    createBusinessInfo(input: $input) {\n      id\n      businessName\n      industry\n      createdAt\n    }\n  }\n": typeof types.CreateBusinessInfoDocument,
    "\n  mutation SaveResearchPreferences($input: ResearchPreferencesInput!) {\n    saveResearchPreferences(input: $input) {\n      depth\n      contentTypes\n      writingTone\n      updatedAt\n    }\n  }\n": typeof types.SaveResearchPreferencesDocument,
    "\n  mutation GeneratePersona($platforms: [Platform!]) {\n    generatePersona(platforms: $platforms) {\n      id\n      version\n      active\n      source\n      selectedPlatforms\n      core {\n        name\n        summary\n      }\n      createdAt\n    }\n  }\n": typeof types.GeneratePersonaDocument,
    "\n  mutation CompleteStep($step: Int!) {\n    completeStep(step: $step) {\n      currentStep\n      percentage\n      steps {\n        step\n        key\n        status\n        completedAt\n      }\n    }\n  }\n": typeof types.CompleteStepDocument,
    "\n  query OnboardingSummary {\n    me {\n      id\n      email\n      tier\n      createdAt\n      onboarding {\n        progress {\n          currentStep\n          percentage\n          completed\n          startedAt\n          steps {\n            step\n            key\n            status\n            completedAt\n          }\n        }\n        resume {\n          step\n          reason\n          missingSteps\n        }\n        providerKeys {\n          provider\n          masked\n          status\n        }\n        hasValidatedKey\n        websiteAnalysis {\n          url\n          analyzedAt\n          fetchedBytes\n        }\n        businessInfo {\n          id\n          businessName\n          industry\n          updatedAt\n        }\n        researchPreferences {\n          depth\n          contentTypes\n          writingTone\n        }\n        integrations {\n          kind\n          status\n        }\n        activePersona {\n          id\n          version\n          source\n          core {\n            name\n            summary\n          }\n        }\n        personas {\n          id\n          active\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n          defaulted\n        }\n        plan {\n          tier\n          backupBytes\n          monthlyTokens\n          requestsPerMinute\n        }\n      }\n    }\n  }\n": typeof types.OnboardingSummaryDocument,
    "\n  query DeferredSummary {\n    onboarding {\n      progress {\n        currentStep\n        percentage\n      }\n      businessInfo {\n        businessName\n      }\n      ... @defer(label: \"slow\") {\n        websiteAnalysis {\n          url\n          analyzedAt\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n        }\n      }\n    }\n  }\n": typeof types.DeferredSummaryDocument,
    "\n  query Plans {\n    plans {\n      tier\n      monthlyTokens\n      backupBytes\n    }\n  }\n": typeof types.PlansDocument,
    "\n  subscription Chat($input: ChatInput!) {\n    chat(input: $input) {\n      runId\n      seq\n      type\n      agent\n      delta\n      toolCall {\n        name\n        arguments\n      }\n      usage {\n        totalTokens\n        offline\n      }\n      done {\n        response\n        finishReason\n        offline\n      }\n      error {\n        code\n        message\n      }\n    }\n  }\n": typeof types.ChatDocument,
};
const documents: Documents = {
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user {\n        id\n        email\n        tier\n        createdAt\n      }\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation CreateBusinessInfo($input: CreateBusinessInfoInput!) {\n    createBusinessInfo(input: $input) {\n      id\n      businessName\n      industry\n      createdAt\n    }\n  }\n": types.CreateBusinessInfoDocument,
    "\n  mutation SaveResearchPreferences($input: ResearchPreferencesInput!) {\n    saveResearchPreferences(input: $input) {\n      depth\n      contentTypes\n      writingTone\n      updatedAt\n    }\n  }\n": types.SaveResearchPreferencesDocument,
    "\n  mutation GeneratePersona($platforms: [Platform!]) {\n    generatePersona(platforms: $platforms) {\n      id\n      version\n      active\n      source\n      selectedPlatforms\n      core {\n        name\n        summary\n      }\n      createdAt\n    }\n  }\n": types.GeneratePersonaDocument,
    "\n  mutation CompleteStep($step: Int!) {\n    completeStep(step: $step) {\n      currentStep\n      percentage\n      steps {\n        step\n        key\n        status\n        completedAt\n      }\n    }\n  }\n": types.CompleteStepDocument,
    "\n  query OnboardingSummary {\n    me {\n      id\n      email\n      tier\n      createdAt\n      onboarding {\n        progress {\n          currentStep\n          percentage\n          completed\n          startedAt\n          steps {\n            step\n            key\n            status\n            completedAt\n          }\n        }\n        resume {\n          step\n          reason\n          missingSteps\n        }\n        providerKeys {\n          provider\n          masked\n          status\n        }\n        hasValidatedKey\n        websiteAnalysis {\n          url\n          analyzedAt\n          fetchedBytes\n        }\n        businessInfo {\n          id\n          businessName\n          industry\n          updatedAt\n        }\n        researchPreferences {\n          depth\n          contentTypes\n          writingTone\n        }\n        integrations {\n          kind\n          status\n        }\n        activePersona {\n          id\n          version\n          source\n          core {\n            name\n            summary\n          }\n        }\n        personas {\n          id\n          active\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n          defaulted\n        }\n        plan {\n          tier\n          backupBytes\n          monthlyTokens\n          requestsPerMinute\n        }\n      }\n    }\n  }\n": types.OnboardingSummaryDocument,
    "\n  query DeferredSummary {\n    onboarding {\n      progress {\n        currentStep\n        percentage\n      }\n      businessInfo {\n        businessName\n      }\n      ... @defer(label: \"slow\") {\n        websiteAnalysis {\n          url\n          analyzedAt\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n        }\n      }\n    }\n  }\n": types.DeferredSummaryDocument,
    "\n  query Plans {\n    plans {\n      tier\n      monthlyTokens\n      backupBytes\n    }\n  }\n": types.PlansDocument,
    "\n  subscription Chat($input: ChatInput!) {\n    chat(input: $input) {\n      runId\n      seq\n      type\n      agent\n      delta\n      toolCall {\n        name\n        arguments\n      }\n      usage {\n        totalTokens\n        offline\n      }\n      done {\n        response\n        finishReason\n        offline\n      }\n      error {\n        code\n        message\n      }\n    }\n  }\n": types.ChatDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user {\n        id\n        email\n        tier\n        createdAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      expiresAt\n      user {\n        id\n        email\n        tier\n        createdAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateBusinessInfo($input: CreateBusinessInfoInput!) {\n    createBusinessInfo(input: $input) {\n      id\n      businessName\n      industry\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  mutation CreateBusinessInfo($input: CreateBusinessInfoInput!) {\n    createBusinessInfo(input: $input) {\n      id\n      businessName\n      industry\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SaveResearchPreferences($input: ResearchPreferencesInput!) {\n    saveResearchPreferences(input: $input) {\n      depth\n      contentTypes\n      writingTone\n      updatedAt\n    }\n  }\n"): (typeof documents)["\n  mutation SaveResearchPreferences($input: ResearchPreferencesInput!) {\n    saveResearchPreferences(input: $input) {\n      depth\n      contentTypes\n      writingTone\n      updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation GeneratePersona($platforms: [Platform!]) {\n    generatePersona(platforms: $platforms) {\n      id\n      version\n      active\n      source\n      selectedPlatforms\n      core {\n        name\n        summary\n      }\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  mutation GeneratePersona($platforms: [Platform!]) {\n    generatePersona(platforms: $platforms) {\n      id\n      version\n      active\n      source\n      selectedPlatforms\n      core {\n        name\n        summary\n      }\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteStep($step: Int!) {\n    completeStep(step: $step) {\n      currentStep\n      percentage\n      steps {\n        step\n        key\n        status\n        completedAt\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CompleteStep($step: Int!) {\n    completeStep(step: $step) {\n      currentStep\n      percentage\n      steps {\n        step\n        key\n        status\n        completedAt\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OnboardingSummary {\n    me {\n      id\n      email\n      tier\n      createdAt\n      onboarding {\n        progress {\n          currentStep\n          percentage\n          completed\n          startedAt\n          steps {\n            step\n            key\n            status\n            completedAt\n          }\n        }\n        resume {\n          step\n          reason\n          missingSteps\n        }\n        providerKeys {\n          provider\n          masked\n          status\n        }\n        hasValidatedKey\n        websiteAnalysis {\n          url\n          analyzedAt\n          fetchedBytes\n        }\n        businessInfo {\n          id\n          businessName\n          industry\n          updatedAt\n        }\n        researchPreferences {\n          depth\n          contentTypes\n          writingTone\n        }\n        integrations {\n          kind\n          status\n        }\n        activePersona {\n          id\n          version\n          source\n          core {\n            name\n            summary\n          }\n        }\n        personas {\n          id\n          active\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n          defaulted\n        }\n        plan {\n          tier\n          backupBytes\n          monthlyTokens\n          requestsPerMinute\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query OnboardingSummary {\n    me {\n      id\n      email\n      tier\n      createdAt\n      onboarding {\n        progress {\n          currentStep\n          percentage\n          completed\n          startedAt\n          steps {\n            step\n            key\n            status\n            completedAt\n          }\n        }\n        resume {\n          step\n          reason\n          missingSteps\n        }\n        providerKeys {\n          provider\n          masked\n          status\n        }\n        hasValidatedKey\n        websiteAnalysis {\n          url\n          analyzedAt\n          fetchedBytes\n        }\n        businessInfo {\n          id\n          businessName\n          industry\n          updatedAt\n        }\n        researchPreferences {\n          depth\n          contentTypes\n          writingTone\n        }\n        integrations {\n          kind\n          status\n        }\n        activePersona {\n          id\n          version\n          source\n          core {\n            name\n            summary\n          }\n        }\n        personas {\n          id\n          active\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n          defaulted\n        }\n        plan {\n          tier\n          backupBytes\n          monthlyTokens\n          requestsPerMinute\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeferredSummary {\n    onboarding {\n      progress {\n        currentStep\n        percentage\n      }\n      businessInfo {\n        businessName\n      }\n      ... @defer(label: \"slow\") {\n        websiteAnalysis {\n          url\n          analyzedAt\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query DeferredSummary {\n    onboarding {\n      progress {\n        currentStep\n        percentage\n      }\n      businessInfo {\n        businessName\n      }\n      ... @defer(label: \"slow\") {\n        websiteAnalysis {\n          url\n          analyzedAt\n        }\n        personaReadiness {\n          ready\n          missing\n          sources\n        }\n        personalization {\n          businessName\n          writingTone\n          personaId\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Plans {\n    plans {\n      tier\n      monthlyTokens\n      backupBytes\n    }\n  }\n"): (typeof documents)["\n  query Plans {\n    plans {\n      tier\n      monthlyTokens\n      backupBytes\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Chat($input: ChatInput!) {\n    chat(input: $input) {\n      runId\n      seq\n      type\n      agent\n      delta\n      toolCall {\n        name\n        arguments\n      }\n      usage {\n        totalTokens\n        offline\n      }\n      done {\n        response\n        finishReason\n        offline\n      }\n      error {\n        code\n        message\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription Chat($input: ChatInput!) {\n    chat(input: $input) {\n      runId\n      seq\n      type\n      agent\n      delta\n      toolCall {\n        name\n        arguments\n      }\n      usage {\n        totalTokens\n        offline\n      }\n      done {\n        response\n        finishReason\n        offline\n      }\n      error {\n        code\n        message\n      }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;